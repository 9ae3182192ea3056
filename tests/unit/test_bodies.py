"""JSON bodies read past their wrong fields: every wrong field is named in one answer."""

from datetime import UTC, datetime

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from reminders.entrypoints.web.api.bodies import (
    component_schemas,
    json_object,
    read_body,
    request_body,
)
from reminders.entrypoints.web.api.schemas import CancelIn, EnrollmentIn

NOW = datetime(2026, 5, 4, 17, 0, tzinfo=UTC)
STAND_INS = {
    "first_name": "-",
    "last_name": "-",
    "procedure": "-",
    "performed_at": NOW,
    "levels": 1,
    "consents": [{"channel": "sms"}],
}
GOOD = {
    "first_name": "Ana",
    "last_name": "Lopez",
    "phone": "(805) 555-0142",
    "procedure": "kyphoplasty",
    "performed_at": "2026-05-04T07:00:00",
    "consents": [{"channel": "sms"}],
}


def test_a_good_body_is_read_as_sent_with_no_errors():
    body, errors = read_body(EnrollmentIn, GOOD, stand_ins=STAND_INS)
    assert errors == {}
    assert (body.first_name, body.phone, body.levels) == ("Ana", "(805) 555-0142", 1)
    assert body.performed_at == datetime(2026, 5, 4, 7, 0)


def test_a_body_with_four_wrong_fields_gives_four_entries_and_keeps_the_rest():
    data = {
        **GOOD,
        "levels": "two",
        "performed_at": "last tuesday",
        "consents": [{"channel": "fax"}],
        "first_name": "A" * 500,
    }
    body, errors = read_body(EnrollmentIn, data, stand_ins=STAND_INS)
    # Each list item's field is named by its place (issue 27: it was "consents", "0.channel: ...").
    assert sorted(errors) == ["consents.0.channel", "first_name", "levels", "performed_at"]
    assert "sms" in errors["consents.0.channel"] and "email" in errors["consents.0.channel"]
    assert "integer" in errors["levels"]
    # The good fields are kept for the domain's own checks; the wrong ones stood in for.
    assert (body.last_name, body.phone, body.procedure) == (
        "Lopez",
        "(805) 555-0142",
        "kyphoplasty",
    )
    assert (body.first_name, body.levels, body.performed_at) == ("-", 1, NOW)


def test_an_unknown_field_is_named_too():
    _, errors = read_body(EnrollmentIn, {**GOOD, "ssn": "123-45-6789"}, stand_ins=STAND_INS)
    assert list(errors) == ["ssn"]
    assert "123-45-6789" not in errors["ssn"]  # the answer does not echo what was sent


def test_the_openapi_request_body_points_at_shared_components():
    spec = request_body(EnrollmentIn)
    assert spec["required"] is True
    # By reference, with the body and what it nests among the components (issue 27: the
    # inline body referred to a CaregiverIn the document never defined).
    assert spec["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/EnrollmentIn"
    }
    components = component_schemas([EnrollmentIn])
    schema = components["EnrollmentIn"]
    assert "$defs" not in schema and {"ConsentIn", "CaregiverIn"} <= set(components)
    assert "#/components/schemas/ConsentIn" in str(schema["properties"]["consents"])
    assert "first_name" in schema["required"]


@pytest.fixture
def web():
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request):
        return await json_object(request)

    return TestClient(app)


def test_a_json_object_is_read_and_anything_else_refused(web):
    assert web.post("/echo", json={"reason": "moved"}).json() == {"reason": "moved"}
    r = web.post("/echo", content=b"reason=moved")
    assert (r.status_code, r.json()["detail"]) == (400, "the body is not JSON")
    assert web.post("/echo", content=b"\xff\xfe").status_code == 400
    r = web.post("/echo", json=["reason"])
    assert r.status_code == 422
    assert r.json()["detail"][0]["msg"] == "the body must be a JSON object"


def test_a_small_body_reads_its_defaults():
    body, errors = read_body(CancelIn, {}, stand_ins={})
    assert (body.reason, errors) == ("cancelled through the API", {})
