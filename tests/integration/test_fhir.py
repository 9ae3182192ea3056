"""EHR intake: a FHIR R4 Procedure enrolls; problems come back as an OperationOutcome."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import func, select
from webtools import client, token

from reminders.adapters.db.orm import enrollments

PROCEDURE = {
    "resourceType": "Procedure",
    "id": "proc-77",
    "identifier": [{"system": "urn:oid:1.2.3.4", "value": "P-77"}],
    "status": "completed",
    "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "22514"}]},
    "subject": {"reference": "#pat"},
    "performedDateTime": "2026-03-07T23:30:00-08:00",
    "bodySite": [{"text": "L1"}, {"text": "L2"}],
    "contained": [
        {
            "resourceType": "Patient",
            "id": "pat",
            "name": [{"given": ["Ana"], "family": "Lopez"}],
            "telecom": [
                {"system": "phone", "value": "(805) 555-0100", "use": "home"},
                {"system": "phone", "value": "(805) 555-0142", "use": "mobile"},
                {"system": "email", "value": "ana@example.org"},
            ],
            "communication": [{"language": {"coding": [{"code": "es-MX"}]}, "preferred": True}],
        }
    ],
}


@pytest.fixture
def ehr(container):
    c = client(container)
    c.headers.update(token(container, "epic"))
    return c


def with_(change):
    body = copy.deepcopy(PROCEDURE)
    change(body)
    return body


def issues(r):
    assert r.headers["content-type"].startswith("application/fhir+json")
    body = r.json()
    assert body["resourceType"] == "OperationOutcome"
    return body["issue"]


def test_a_completed_procedure_enrolls_once(ehr, engine):
    r = ehr.post("/fhir/Procedure", json=PROCEDURE)
    assert r.status_code == 201, r.text
    assert issues(r)[0]["severity"] == "information"
    e = ehr.get(r.headers["location"]).json()
    assert e["patient"]["phone"] == "+18055550142"  # the mobile, not the home line
    assert e["patient"]["language"] == "es"
    assert e["procedure"]["procedure"] == "kyphoplasty"
    assert e["procedure"]["levels"] == 2
    assert e["procedure"]["external_id"] == "fhir:urn:oid:1.2.3.4|P-77"
    assert {(c["channel"], c["recorded_by"]) for c in e["consents"]} == {
        ("sms", "token:epic"),
        ("email", "token:epic"),
    }
    again = ehr.post("/fhir/Procedure", json=PROCEDURE)
    assert again.status_code == 200 and again.headers["location"] == r.headers["location"]
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(enrollments)) == 1


def test_an_unknown_code_is_refused(ehr, engine):
    body = with_(lambda b: b["code"]["coding"][0].update(code="99213"))
    r = ehr.post("/fhir/Procedure", json=body)
    assert r.status_code == 422
    (issue,) = issues(r)
    assert issue["code"] == "code-invalid" and issue["expression"] == ["Procedure.code"]
    assert "99213" in issue["diagnostics"]


def test_a_missing_phone_is_refused(ehr):
    body = with_(
        lambda b: b["contained"][0].update(telecom=[{"system": "email", "value": "a@b.org"}])
    )
    r = ehr.post("/fhir/Procedure", json=body)
    assert r.status_code == 422
    (issue,) = issues(r)
    assert issue["code"] == "required" and "phone" in issue["diagnostics"]


@pytest.mark.parametrize(
    ("change", "code", "where"),
    [
        (lambda b: b.update(status="in-progress"), "business-rule", "Procedure.status"),
        (lambda b: b.pop("performedDateTime"), "required", "Procedure.performedDateTime"),
        (
            lambda b: b.update(subject={"reference": "Patient/123"}),
            "not-found",
            "Procedure.subject",
        ),
        (lambda b: b.update(performedDateTime="last tuesday"), "structure", None),
        (
            lambda b: b.update(performedDateTime="2026-03-07"),
            "value",
            "Procedure.performedDateTime",
        ),
        (lambda b: b["contained"][0].pop("name"), "invalid", "Procedure.subject.resolve().name"),
        (
            lambda b: b["contained"][0]["telecom"][1].update(value="555"),
            "invalid",
            "Procedure.subject.resolve().telecom",
        ),
    ],
)
def test_problems_point_at_the_element(ehr, engine, change, code, where):
    r = ehr.post("/fhir/Procedure", json=with_(change))
    assert r.status_code == 422, r.text
    found = issues(r)
    assert found[0]["code"] == code
    if where:
        assert found[0]["expression"] == [where]
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(enrollments)) == 0


def test_not_a_procedure_or_not_json(ehr):
    assert ehr.post("/fhir/Procedure", json={"resourceType": "Patient"}).status_code == 422
    r = ehr.post(
        "/fhir/Procedure", content=b"{nope", headers={"content-type": "application/fhir+json"}
    )
    assert r.status_code == 400 and issues(r)[0]["code"] == "invalid"


def test_needs_a_token(container):
    assert client(container).post("/fhir/Procedure", json=PROCEDURE).status_code == 401


def test_each_wrong_field_is_its_own_issue(ehr, engine):
    def change(body):
        body["identifier"][0]["value"] = "P" * 250
        body["contained"][0]["name"] = [{"given": ["A" * 10_000], "family": "Lopez"}]
        body["contained"][0]["telecom"] = [{"system": "phone", "value": "805-CALL-NOW"}]

    r = ehr.post("/fhir/Procedure", json=with_(change))
    assert r.status_code == 422
    found = {i["expression"][0]: i["diagnostics"] for i in issues(r)}
    assert len(issues(r)) == 3
    assert "contains letters" in found["Procedure.subject.resolve().telecom"]
    assert "at most 100" in found["Procedure.subject.resolve().name"]
    assert "at most 196" in found["Procedure.identifier"]
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(enrollments)) == 0


def test_a_performed_period_enrolls_at_its_end(ehr):
    def period(b):
        b.pop("performedDateTime")
        b["performedPeriod"] = {
            "start": "2026-03-07T22:45:00-08:00",
            "end": "2026-03-07T23:30:00-08:00",
        }

    r = ehr.post("/fhir/Procedure", json=with_(period))
    assert r.status_code == 201, r.text
    e = ehr.get(r.headers["location"]).json()
    assert e["procedure"]["performed_at"].startswith("2026-03-08T07:30:00")


def test_a_time_without_its_offset_says_what_is_missing(ehr):
    r = ehr.post(
        "/fhir/Procedure", json=with_(lambda b: b.update(performedDateTime="2026-03-07T23:30:00"))
    )
    assert r.status_code == 422
    (issue,) = issues(r)
    assert "needs its offset" in issue["diagnostics"]
    assert issue["expression"] == ["Procedure.performedDateTime"]
