"""EnrollmentRepository: a patient, enrollment and consents written together and read back."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import func, select

from reminders.adapters.db.enrollments.repository import EnrollmentRepository
from reminders.adapters.db.orm import consents, enrollments
from reminders.domain.lifecycles.enrollment import CANCEL
from reminders.domain.model import (
    Channel,
    Consent,
    ConsentMethod,
    Enrollment,
    Patient,
    ProcedureRecord,
)

NOW = datetime(2026, 5, 4, 17, 0, tzinfo=UTC)


def ana(key="auto:ana", **procedure):
    return Enrollment(
        patient=Patient("Ana", "Lopez", "+18055550142", None, "es", "America/Los_Angeles"),
        procedure=ProcedureRecord(
            "kyphoplasty",
            NOW - timedelta(hours=3),
            **{"levels": 2, "overnight": True, "external_id": "EPIC-77", **procedure},
        ),
        consents=[
            Consent(Channel.SMS, True, ConsentMethod.WRITTEN, "nurse.kim", NOW, True),
            Consent(Channel.EMAIL, False, ConsentMethod.VERBAL, "nurse.kim", NOW),
        ],
        idempotency_key=key,
    )


def add(repo: EnrollmentRepository, e: Enrollment) -> int:
    added = repo.add(e, enrolled_by="nurse.kim", now=NOW)
    assert added is not None and added.id is not None
    return added.id


def test_an_enrollment_is_read_back_as_it_was_written(engine):
    with engine.begin() as conn:
        repo = EnrollmentRepository(conn)
        added = repo.add(ana(), enrolled_by="nurse.kim", now=NOW)
        assert added is not None and added.id is not None
        eid = added.id
        got = repo.get(eid)
    assert got is not None
    assert added == got, "add() returns the enrollment exactly as a read gives it back"
    assert (got.id, got.status, got.revision, got.created_at, got.idempotency_key) == (
        eid,
        "active",
        1,
        NOW,
        "auto:ana",
    )
    assert got.patient.id is not None
    assert got.patient == Patient(
        "Ana", "Lopez", "+18055550142", None, "es", "America/Los_Angeles", id=got.patient.id
    )
    assert got.procedure == ana().procedure
    assert got.procedure.performed_at.tzinfo is not None  # aware on both databases
    assert got.consents == ana().consents
    assert got.messages == []


def test_the_idempotency_key_finds_the_enrollment_and_is_taken_once(engine):
    with engine.begin() as conn:
        repo = EnrollmentRepository(conn)
        eid = add(repo, ana())
        assert repo.id_for_key("auto:ana") == eid
        assert repo.id_for_key("auto:luis") is None
    with engine.begin() as conn:
        # A taken key is no error: add() says None and writes no enrollment or consent.
        assert EnrollmentRepository(conn).add(ana(), enrolled_by="api", now=NOW) is None
        assert conn.scalar(select(func.count()).select_from(enrollments)) == 1
        assert conn.scalar(select(func.count()).select_from(consents)) == 2


def test_a_utc_offset_time_comes_back_in_utc_as_a_read_gives_it(engine):
    pacific = timezone(timedelta(hours=-7))
    e = ana()
    e.procedure = replace(e.procedure, performed_at=e.procedure.performed_at.astimezone(pacific))
    with engine.begin() as conn:
        repo = EnrollmentRepository(conn)
        added = repo.add(e, enrolled_by="nurse.kim", now=NOW.astimezone(pacific))
        assert added is not None and added.id is not None
        assert added == repo.get(added.id)
    assert added.procedure.performed_at.utcoffset() == timedelta(0)


def test_an_unknown_id_is_none(engine):
    with engine.connect() as conn:
        assert EnrollmentRepository(conn).get(12345) is None
        assert EnrollmentRepository(conn).get(12345, for_update=True) is None


def test_update_changes_the_named_columns_and_the_time(engine):
    later = NOW + timedelta(hours=2)
    with engine.begin() as conn:
        repo = EnrollmentRepository(conn)
        eid = add(repo, ana())
        assert repo.move(eid, CANCEL, now=later)  # the status by the lifecycle's step only
        assert not repo.move(eid, CANCEL, now=later)  # cancelled already: nothing moves
        repo.update(eid, now=later, revision=2)
        got = repo.get(eid, for_update=True)
        other = add(repo, ana("auto:two"))
        untouched = repo.get(other)
        stamps = dict(conn.execute(select(enrollments.c.id, enrollments.c.updated_at)).all())
    assert got is not None and (got.status, got.revision) == ("cancelled", 2)
    assert untouched is not None and (untouched.status, untouched.revision) == ("active", 1)
    assert stamps == {eid: later, other: NOW}
