"""Clinical events from the EHR: an emergency visit or admission pauses the plan until staff
resume or cancel it; a Procedure withdrawn as entered-in-error or not-done cancels it."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from sqlalchemy import select
from test_fhir import PROCEDURE
from webtools import add_staff, client, login, post_form, token

from reminders.adapters.db.orm import audit_log, enrollments, escalations, scheduled_messages
from reminders.services.delivery.dispatch import dispatch_due

ENCOUNTER = {
    "resourceType": "Encounter",
    "id": "enc-9",
    "status": "in-progress",
    "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "EMER"},
    "reasonReference": [{"identifier": {"system": "urn:oid:1.2.3.4", "value": "P-77"}}],
    "period": {"start": "2026-03-10T03:00:00Z"},
}
BY_PHONE = {
    **{k: v for k, v in ENCOUNTER.items() if k != "reasonReference"},
    "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
    "subject": {"reference": "#p"},
    "contained": [
        {
            "resourceType": "Patient",
            "id": "p",
            "telecom": [{"system": "phone", "value": "805-555-0142"}],
        }
    ],
}


@pytest.fixture
def ehr(container):
    c = client(container)
    c.headers.update(token(container, "epic"))
    return c


def enrolled(ehr) -> int:  # type: ignore[no-untyped-def]
    r = ehr.post("/fhir/Procedure", json=PROCEDURE)
    assert r.status_code == 201, r.text
    return int(r.headers["location"].rsplit("/", 1)[1])


def messages(engine, enrollment_id: int):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(
            select(scheduled_messages)
            .where(scheduled_messages.c.enrollment_id == enrollment_id)
            .order_by(scheduled_messages.c.send_at)
        ).all()


def status_of(engine, enrollment_id: int) -> str:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.scalar(select(enrollments.c.status).where(enrollments.c.id == enrollment_id))


def test_a_readmission_pauses_the_plan_and_resume_continues_it(ehr, container, engine, clock):
    eid = enrolled(ehr)
    planned = [m for m in messages(engine, eid) if m.status == "scheduled"]
    assert len(planned) > 5
    clock.advance(days=2)  # day 2: the patient is back in the emergency room
    r = ehr.post("/fhir/Encounter", json=ENCOUNTER)
    assert r.status_code == 200, r.text
    assert "paused" in r.json()["issue"][0]["diagnostics"]
    assert status_of(engine, eid) == "paused"
    held = [m for m in messages(engine, eid) if m.status_reason and "paused" in m.status_reason]
    assert held and all(m.status == "cancelled" for m in held)
    assert not [m for m in messages(engine, eid) if m.status == "scheduled"]
    with engine.connect() as conn:
        (task,) = conn.execute(select(escalations)).all()
        assert (task.kind, task.status) == ("clinical_event", "open")
        assert "the EHR reported an emergency visit" in task.reason
        assert "paused" in [a.action for a in conn.execute(select(audit_log)).all()]
    again = ehr.post("/fhir/Encounter", json=ENCOUNTER)  # the EHR sends it again
    assert "already paused" in again.json()["issue"][0]["diagnostics"]
    with engine.connect() as conn:
        assert len(conn.execute(select(escalations)).all()) == 1

    clock.advance(days=3)  # nothing goes out while paused
    claimed: list[int] = []
    dispatch_due(uow=container.uow(), enqueue=claimed.extend, now=clock)
    assert claimed == []

    staff = client(container)
    add_staff(container)
    login(staff)
    page = staff.get(f"/staff/patients/{eid}").text
    assert 'id="resume-enrollment"' in page and "Messages paused" in page
    r = post_form(staff, f"/staff/patients/{eid}", f"/staff/patients/{eid}/restart", {})
    assert r.status_code in (200, 303), r.text
    assert status_of(engine, eid) == "active"
    upcoming = [m for m in messages(engine, eid) if m.status == "scheduled"]
    assert upcoming and all(m.send_at >= clock.now - timedelta(minutes=1) for m in upcoming)
    # What fell due during the pause is not sent late; the rest of the recovery goes on.
    # Nothing had gone out before the pause, so a resume on day 5 is a late start: the
    # care rules that still apply come once as a catch-up (issue 21).
    late_only = {"care_rules_late_email", "care_rules_late_text"}
    assert {m.step_key for m in upcoming} - late_only < {m.step_key for m in planned}


def test_an_admission_matched_by_phone_pauses_too(ehr, engine):
    eid = enrolled(ehr)
    r = ehr.post("/fhir/Encounter", json=BY_PHONE)
    assert r.status_code == 200, r.text
    assert status_of(engine, eid) == "paused"


def test_an_outpatient_visit_changes_nothing(ehr, engine):
    eid = enrolled(ehr)
    body = copy.deepcopy(ENCOUNTER)
    body["class"]["code"] = "AMB"
    r = ehr.post("/fhir/Encounter", json=body)
    assert r.status_code == 200 and "does not pause" in r.json()["issue"][0]["diagnostics"]
    assert status_of(engine, eid) == "active"


def test_an_encounter_for_nobody_enrolled_is_404_and_a_bad_one_422(ehr):
    assert ehr.post("/fhir/Encounter", json=BY_PHONE).status_code == 404
    bad = {k: v for k, v in ENCOUNTER.items() if k != "reasonReference"}
    r = ehr.post("/fhir/Encounter", json=bad)
    assert r.status_code == 422 and "name the patient" in r.json()["issue"][0]["diagnostics"]
    assert ehr.post("/fhir/Encounter", json={"resourceType": "Procedure"}).status_code == 422


@pytest.mark.parametrize("status", ["entered-in-error", "not-done"])
def test_a_withdrawn_procedure_cancels_its_messages(ehr, engine, status):
    eid = enrolled(ehr)
    body = {**copy.deepcopy(PROCEDURE), "status": status}
    r = ehr.post("/fhir/Procedure", json=body)
    assert r.status_code == 200, r.text
    assert status in r.json()["issue"][0]["diagnostics"]
    assert status_of(engine, eid) == "cancelled"
    assert not [m for m in messages(engine, eid) if m.status == "scheduled"]


def test_a_withdrawn_procedure_never_enrolled_is_404(ehr):
    body = {**copy.deepcopy(PROCEDURE), "status": "entered-in-error"}
    assert ehr.post("/fhir/Procedure", json=body).status_code == 404


# The five intake defects of issue 25, each proved against the routes.


def test_a_caregivers_emergency_visit_does_not_pause_the_patient(ehr, container, engine):
    body = copy.deepcopy(PROCEDURE)
    enrolled_id = int(ehr.post("/fhir/Procedure", json=body).headers["location"].rsplit("/")[-1])
    staff = client(container)
    add_staff(container)
    login(staff)
    page = f"/staff/patients/{enrolled_id}"
    r = post_form(
        staff,
        page,
        f"/staff/patients/{enrolled_id}/caregiver",
        {
            "caregiver_name": "Rosa",
            "caregiver_relationship": "daughter",
            "caregiver_phone": "(805) 555-0199",
            "caregiver_sms_consent": "on",
        },
    )
    assert r.status_code in (200, 303), r.text
    caregiver_visit = copy.deepcopy(BY_PHONE)
    caregiver_visit["contained"][0]["telecom"] = [{"system": "phone", "value": "805-555-0199"}]
    r = ehr.post("/fhir/Encounter", json=caregiver_visit)
    assert r.status_code == 404, r.text  # nobody enrolled is this phone's owner
    assert status_of(engine, enrolled_id) == "active"


def test_an_encounter_naming_the_procedure_resource_finds_it(ehr, engine):
    eid = enrolled(ehr)  # enrolled with identifier urn:oid:1.2.3.4|P-77, resource id proc-77
    body = copy.deepcopy(ENCOUNTER)
    body["reasonReference"] = [{"reference": "Procedure/proc-77"}]
    r = ehr.post("/fhir/Encounter", json=body)
    assert r.status_code == 200, r.text
    assert status_of(engine, eid) == "paused"


def test_a_not_done_procedure_with_only_its_id_cancels(ehr, engine):
    eid = enrolled(ehr)
    body = {k: v for k, v in copy.deepcopy(PROCEDURE).items() if k != "identifier"}
    body["status"] = "not-done"
    r = ehr.post("/fhir/Procedure", json=body)
    assert r.status_code == 200, r.text
    assert status_of(engine, eid) == "cancelled"


def test_the_same_withdrawal_twice_is_audited_once(ehr, engine):
    eid = enrolled(ehr)
    body = {**copy.deepcopy(PROCEDURE), "status": "entered-in-error"}
    assert ehr.post("/fhir/Procedure", json=body).status_code == 200
    again = ehr.post("/fhir/Procedure", json=body)
    assert again.status_code == 200
    assert "already cancelled" in again.json()["issue"][0]["diagnostics"]
    with engine.connect() as conn:
        actions = [
            a.action
            for a in conn.execute(select(audit_log).where(audit_log.c.enrollment_id == eid))
        ]
    assert actions.count("cancelled") == 1


@pytest.mark.parametrize("action", ["restart", "cancel"])
def test_the_hospital_visit_task_closes_when_staff_resume_or_cancel(ehr, container, engine, action):
    eid = enrolled(ehr)
    assert ehr.post("/fhir/Encounter", json=ENCOUNTER).status_code == 200
    staff = client(container)
    add_staff(container)
    login(staff)
    data = {"reason": "back home"} if action == "cancel" else {}
    r = post_form(staff, f"/staff/patients/{eid}", f"/staff/patients/{eid}/{action}", data)
    assert r.status_code in (200, 303), r.text
    with engine.connect() as conn:
        (task,) = conn.execute(select(escalations)).all()
    assert (task.kind, task.status, task.resolved_by) == ("clinical_event", "resolved", "nurse.kim")
