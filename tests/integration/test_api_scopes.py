"""Every API write answers with what the token's scopes allow, and says "unchanged" for a
replay or a no-op, audited as such (issue 22, finding 2), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from test_api import ANA
from webtools import client, token

from reminders.adapters.db.orm import audit_log
from reminders.domain.staff.accounts import Scope

PATIENT_WORDS = ("Ana", "Lopez", "555", "ana@example.org", "EHR-123", "kyphoplasty")


@pytest.fixture
def full(container):
    c = client(container)
    c.headers.update(token(container, "epic"))
    return c


@pytest.fixture
def enroll_only(container):
    c = client(container)
    c.headers.update(token(container, "intake", [Scope.ENROLL]))
    return c


def actions(engine, eid):
    with engine.connect() as conn:
        return [
            (r.actor, r.action)
            for r in conn.execute(
                select(audit_log.c.actor, audit_log.c.action)
                .where(audit_log.c.enrollment_id == eid)
                .order_by(audit_log.c.id)
            )
        ]


def no_patient_data(r) -> None:
    assert r.status_code in (200, 201), r.text
    assert not any(word in r.text for word in PATIENT_WORDS), r.text
    assert set(r.json()) == {"id", "status", "revision", "result", "messages"}


def test_an_enroll_only_token_reads_no_patient_through_any_write(full, enroll_only, engine):
    eid = full.post("/api/v1/enrollments", json=ANA).json()["id"]
    assert enroll_only.get(f"/api/v1/enrollments/{eid}").status_code == 403
    r = enroll_only.patch(f"/api/v1/enrollments/{eid}", json={})
    no_patient_data(r)
    assert r.json()["result"] == "unchanged"
    r = enroll_only.patch(f"/api/v1/enrollments/{eid}", json={"language": "es"})
    no_patient_data(r)
    assert r.json()["result"] == "changed"
    r = enroll_only.post("/api/v1/enrollments", json=ANA)  # a replay of a known external id
    no_patient_data(r)
    assert r.status_code == 200 and r.json()["result"] == "unchanged"
    r = enroll_only.post(f"/api/v1/enrollments/{eid}/cancel")
    no_patient_data(r)
    assert r.json()["status"] == "cancelled" and r.json()["result"] == "changed"
    created = enroll_only.post("/api/v1/enrollments", json={**ANA, "external_id": "EHR-9"})
    no_patient_data(created)
    assert created.status_code == 201 and created.json()["result"] == "created"


def test_replays_and_no_ops_are_audited_as_what_happened(full, engine):
    eid = full.post("/api/v1/enrollments", json=ANA).json()["id"]
    assert full.patch(f"/api/v1/enrollments/{eid}", json={}).json()["result"] == "unchanged"
    first = full.post(f"/api/v1/enrollments/{eid}/cancel")
    again = full.post(f"/api/v1/enrollments/{eid}/cancel")
    assert first.json()["result"] == "changed" and again.json()["result"] == "unchanged"
    assert first.json()["patient"]["first_name"] == "Ana"  # `read` scope: the whole record
    log = actions(engine, eid)
    assert log.count(("token:epic", "cancelled")) == 1
    assert ("token:epic", "unchanged") in log
    assert [a for _, a in log].count("unchanged") == 2  # the empty PATCH and the 2nd cancel


def test_a_token_without_the_scope_is_refused_before_anything_is_read(container, full):
    eid = full.post("/api/v1/enrollments", json=ANA).json()["id"]
    reader = client(container)
    reader.headers.update(token(container, "viewer", [Scope.READ]))
    metrics = client(container)
    metrics.headers.update(token(container, "prom", [Scope.METRICS]))
    for c in (reader, metrics):
        assert c.patch(f"/api/v1/enrollments/{eid}", json={}).status_code == 403
        assert c.patch("/api/v1/enrollments/999999", json={"bad": 1}).status_code == 403
        assert c.post(f"/api/v1/enrollments/{eid}/cancel").status_code == 403
        assert c.post("/api/v1/enrollments", json=ANA).status_code == 403
    assert metrics.get(f"/api/v1/enrollments/{eid}").status_code == 403
