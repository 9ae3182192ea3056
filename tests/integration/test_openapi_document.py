"""The served OpenAPI document as a client generator reads it: valid OpenAPI 3.1, every $ref
resolving, only answers that can happen, Location on 201, stable operation ids, FHIR bodies."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import validate
from test_api import ANA
from webtools import add_staff, client, login, token


@pytest.fixture
def doc(container) -> dict[str, Any]:
    web = client(container)
    r = web.get("/openapi.json", headers=token(container))
    assert r.status_code == 200
    return r.json()


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_the_document_validates_as_openapi_3_1(doc):
    assert doc["openapi"].startswith("3.1")
    validate(doc)  # raises on any error, an unresolvable $ref included


def test_every_ref_resolves_the_caregiver_included(doc):
    schemas = doc["components"]["schemas"]
    refs = set(_refs(doc))
    assert "#/components/schemas/CaregiverIn" in refs
    missing = {r for r in refs if r.removeprefix("#/components/schemas/") not in schemas}
    assert not missing
    body = doc["paths"]["/api/v1/enrollments"]["post"]["requestBody"]["content"]
    create = schemas[body["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]
    assert "caregiver" in create["properties"] and "consents" in create["required"]


def test_the_create_operation_documents_what_can_happen(doc):
    create = doc["paths"]["/api/v1/enrollments"]["post"]
    assert set(create["responses"]) == {"200", "201", "400", "401", "403", "413", "422"}
    assert "Location" in create["responses"]["201"]["headers"]
    assert "Location" in create["responses"]["200"]["headers"]
    cancel = doc["paths"]["/api/v1/enrollments/{enrollment_id}/cancel"]["post"]
    assert "409" not in cancel["responses"]  # cancelling twice is harmless
    assert "409" in doc["paths"]["/api/v1/enrollments/{enrollment_id}"]["patch"]["responses"]
    assert "400" not in doc["paths"]["/api/v1/enrollments/{enrollment_id}"]["get"]["responses"]


def test_operation_ids_are_named_not_generated(doc):
    ids = {
        (method, path): op["operationId"]
        for path, ops in doc["paths"].items()
        for method, op in ops.items()
    }
    assert ids["post", "/api/v1/enrollments"] == "createEnrollment"
    assert ids["get", "/api/v1/enrollments/{enrollment_id}"] == "getEnrollment"
    assert ids["patch", "/api/v1/enrollments/{enrollment_id}"] == "updateEnrollment"
    assert ids["post", "/api/v1/enrollments/{enrollment_id}/cancel"] == "cancelEnrollment"
    assert ids["post", "/fhir/Procedure"] == "fhirCreateProcedure"
    assert all("_" not in i for i in ids.values()), ids
    assert len(set(ids.values())) == len(ids)


def test_fhir_bodies_are_described(doc):
    body = doc["paths"]["/fhir/Procedure"]["post"]["requestBody"]["content"]
    schema = body["application/fhir+json"]["schema"]
    assert {"status", "code", "performedDateTime", "subject", "contained"} <= set(
        schema["properties"]
    )
    encounter = doc["paths"]["/fhir/Encounter"]["post"]["requestBody"]["content"]
    assert "class" in encounter["application/json"]["schema"]["properties"]
    created = doc["paths"]["/fhir/Procedure"]["post"]["responses"]["201"]
    outcome = created["content"]["application/fhir+json"]["schema"]
    assert "items" in outcome["properties"]["issue"]
    assert "Location" in created["headers"]


def test_docs_in_a_browser_without_a_session_go_to_sign_in(container):
    web = client(container)
    r = web.get("/docs", headers={"Accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/staff/login")
    assert web.get("/docs", headers={"Accept": "application/json"}).status_code == 401
    add_staff(container)
    login(web)
    assert "swagger-ui" in web.get("/docs", headers={"Accept": "text/html"}).text


def test_every_wrong_consent_is_named_by_its_place(container):
    api = client(container)
    body = {**ANA, "consents": [{"channel": "pigeon"}, {"channel": "sms", "method": "shouted"}]}
    r = api.post("/api/v1/enrollments", json=body, headers=token(container))
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"consents.0.channel", "consents.1.method"} <= fields
    assert "consents" not in fields


def test_a_future_time_is_said_beside_an_unknown_zone_and_procedure(container):
    api = client(container)
    body = {
        **ANA,
        "timezone": "Mars/Olympus",
        "procedure": "nose job",
        "performed_at": "2027-06-08T10:00:00-07:00",  # 400 days after the test's clock
    }
    r = api.post("/api/v1/enrollments", json=body, headers=token(container))
    assert r.status_code == 422
    errors = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert {"timezone", "procedure", "performed_at"} <= set(errors)
    assert "future" in errors["performed_at"]
