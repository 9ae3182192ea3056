"""The REST API on real SQLite and PostgreSQL: create (idempotent), get, patch, cancel, errors."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from webtools import client, token

from reminders.adapters.db.orm import audit_log, enrollments, scheduled_messages

ANA = {
    "first_name": "Ana",
    "last_name": "Lopez",
    "phone": "(805) 555-0142",
    "email": "ana@example.org",
    "procedure": "kyphoplasty",
    "performed_at": "2026-03-07T23:30:00",
    "timezone": "America/Los_Angeles",
    "external_id": "EHR-123",
    "consents": [{"channel": "sms"}, {"channel": "email", "method": "written"}],
}


@pytest.fixture
def api(container):
    c = client(container)
    c.headers.update(token(container))
    return c


def count(engine, table):
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(table))


def test_create_then_get(api, engine):
    r = api.post("/api/v1/enrollments", json=ANA)
    assert r.status_code == 201, r.text
    body = r.json()
    assert r.headers["location"] == f"/api/v1/enrollments/{body['id']}"
    assert body["patient"]["phone"] == "+18055550142"
    assert body["procedure"]["performed_at"].startswith("2026-03-08T07:30:00")
    assert {c["recorded_by"] for c in body["consents"]} == {"token:epic"}
    assert body["messages"] and all(
        m["status"] in ("scheduled", "skipped") for m in body["messages"]
    )
    got = api.get(r.headers["location"])
    assert got.status_code == 200 and got.json() == {**body, "result": None}


def test_create_is_idempotent_on_the_external_id(api, engine):
    first = api.post("/api/v1/enrollments", json=ANA)
    messages = count(engine, scheduled_messages)
    again = api.post("/api/v1/enrollments", json={**ANA, "first_name": "Ana Maria"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["patient"]["first_name"] == "Ana"
    assert count(engine, enrollments) == 1
    assert count(engine, scheduled_messages) == messages


def test_validation_errors_name_each_field(api, engine):
    r = api.post(
        "/api/v1/enrollments",
        json={**ANA, "levels": 0, "consents": [], "performed_at": "yesterday", "surprise": 1},
    )
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"levels", "consents", "performed_at", "surprise"} <= fields
    assert all(e["message"] for e in r.json()["errors"])
    assert count(engine, enrollments) == 0


@pytest.mark.parametrize(
    ("change", "field", "text"),
    [
        ({"phone": "555"}, "phone", "not a valid phone"),
        ({"timezone": "Mars/Olympus"}, "timezone", "not a time zone"),
        ({"procedure": "appendectomy"}, "procedure", "known procedures"),
        ({"language": "fr"}, "language", "en, es"),
        ({"performed_at": "2026-03-09T12:00:00"}, "performed_at", "future"),
        ({"phone": None, "consents": [{"channel": "sms"}]}, "phone", "no phone"),
        ({"first_name": "Ana\u0000"}, "first_name", "control characters"),
    ],
)
def test_domain_errors_are_422_with_the_field(api, engine, change, field, text):
    r = api.post("/api/v1/enrollments", json={**ANA, **change})
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    assert errors[0]["field"] == field and text in errors[0]["message"]
    assert count(engine, enrollments) == 0


def test_no_token_no_access(container):
    c = client(container)
    assert c.post("/api/v1/enrollments", json=ANA).status_code == 401
    r = c.get("/api/v1/enrollments/1", headers={"Authorization": "Bearer rr_nope"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


def test_unknown_enrollment_is_404(api):
    r = api.get("/api/v1/enrollments/999")
    assert r.status_code == 404 and r.json()["errors"][0]["field"] == "id"


def test_patch_reschedules_and_changes_language_and_channels(api, container):
    e = api.post("/api/v1/enrollments", json=ANA).json()
    container.clock.advance(hours=1)
    r = api.patch(
        f"/api/v1/enrollments/{e['id']}",
        json={
            "performed_at": "2026-03-07T22:00:00",
            "language": "es",
            "channels": [{"channel": "sms"}],
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["revision"] == 2
    assert body["patient"]["language"] == "es"
    assert body["procedure"]["performed_at"].startswith("2026-03-08T06:00:00")
    live = [m for m in body["messages"] if m["revision"] == 2 and m["status"] == "scheduled"]
    assert live and {m["channel"] for m in live} == {"sms"}
    email = [c for c in body["consents"] if c["channel"] == "email"]
    assert email and not any(c["given"] for c in email)


def test_a_patch_with_one_bad_field_changes_nothing(api):
    e = api.post("/api/v1/enrollments", json=ANA).json()
    r = api.patch(
        f"/api/v1/enrollments/{e['id']}",
        json={"performed_at": "2026-03-07T22:00:00", "language": "fr"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "language"
    after = api.get(f"/api/v1/enrollments/{e['id']}").json()
    assert after["revision"] == 1 and after["procedure"] == e["procedure"]


def test_adding_a_channel_records_consent_by_the_caller(api):
    e = api.post("/api/v1/enrollments", json={**ANA, "consents": [{"channel": "sms"}]}).json()
    r = api.patch(
        f"/api/v1/enrollments/{e['id']}",
        json={"channels": [{"channel": "sms"}, {"channel": "email", "method": "written"}]},
    )
    email = [c for c in r.json()["consents"] if c["channel"] == "email"]
    assert email[0]["given"] and email[0]["method"] == "written"
    assert any(m["channel"] == "email" and m["revision"] == 2 for m in r.json()["messages"])


def test_cancel_then_changes_are_refused(api, engine):
    e = api.post("/api/v1/enrollments", json=ANA).json()
    r = api.post(f"/api/v1/enrollments/{e['id']}/cancel", json={"reason": "patient asked"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert not [m for m in r.json()["messages"] if m["status"] == "scheduled"]
    refused = api.patch(f"/api/v1/enrollments/{e['id']}", json={"language": "es"})
    assert refused.status_code == 409
    with engine.connect() as conn:
        actions = conn.execute(select(audit_log.c.action, audit_log.c.actor)).all()
    assert ("enrolled", "token:epic") in actions and ("cancelled", "token:epic") in actions


def test_the_openapi_document_describes_the_contract(api):
    doc = api.get("/openapi.json").json()
    paths = doc["paths"]
    assert {"post"} <= set(paths["/api/v1/enrollments"])
    assert {"get", "patch"} <= set(paths["/api/v1/enrollments/{enrollment_id}"])
    assert "post" in paths["/api/v1/enrollments/{enrollment_id}/cancel"]
    assert "post" in paths["/fhir/Procedure"]
    assert "bearer" in str(doc["components"]["securitySchemes"]).lower()
    assert client(api.app.state.container).get("/openapi.json").status_code == 401


def test_four_wrong_fields_get_four_errors_in_one_answer(api, engine):
    r = api.post(
        "/api/v1/enrollments",
        json={
            **ANA,
            "first_name": "A" * 10_000,  # the schema refuses it
            "levels": "two",  # the schema refuses it
            "phone": "805-CALL-NOW",  # the domain refuses it
            "timezone": "Mars/Base",  # the domain refuses it
        },
    )
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    assert sorted(e["field"] for e in errors) == ["first_name", "levels", "phone", "timezone"]
    by_field = {e["field"]: e["message"] for e in errors}
    assert "contains letters" in by_field["phone"]
    assert "not a time zone" in by_field["timezone"]
    assert r.json()["detail"] == "the request has invalid fields"
    assert count(engine, enrollments) == 0


def test_letters_in_a_phone_are_refused(api, engine):
    r = api.post("/api/v1/enrollments", json={**ANA, "phone": "805-CALL-NOW"})
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {
            "field": "phone",
            "message": "'805-CALL-NOW' contains letters; type the phone number in digits,"
            " like (805) 555-0142",
        }
    ]
    assert count(engine, enrollments) == 0


def test_a_body_that_is_not_json_or_not_an_object(api):
    r = api.post(
        "/api/v1/enrollments", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400
    r = api.post("/api/v1/enrollments", json=[1, 2])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] is None


def test_the_openapi_document_still_describes_the_enrollment_body(api):
    doc = api.get("/openapi.json").json()
    body = doc["paths"]["/api/v1/enrollments"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    ref = schema["$ref"].removeprefix("#/components/schemas/")
    schema = doc["components"]["schemas"][ref]  # by reference, as the other bodies
    assert schema["properties"]["first_name"]["maxLength"] == 100
    assert schema["properties"]["external_id"]["anyOf"][0]["maxLength"] == 196
    consents = schema["properties"]["consents"]["items"]["$ref"]
    assert consents.removeprefix("#/components/schemas/") in doc["components"]["schemas"]


def test_a_wrong_method_names_every_method_the_path_takes(api):
    answer = api.options("/api/v1/enrollments/1")
    assert answer.status_code == 405
    assert {m.strip() for m in answer.headers["allow"].split(",")} >= {"GET", "PATCH"}


def test_an_api_enrollment_is_audited_with_the_callers_address(api, engine):
    from webtools import ADDR

    assert api.post("/api/v1/enrollments", json=ANA).status_code == 201
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_log.c.client_addr).where(audit_log.c.action == "enrolled")
        ).all()
    assert [r.client_addr for r in rows] == [ADDR]
