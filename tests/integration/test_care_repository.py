"""CareRepository: the staff search (name, phone digits, EHR id, #id) and check-in answers."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

import pytest
from rows import NOW, checkin, enrollment, inbound, patient
from sqlalchemy import insert, update

from reminders.adapters.db.enrollments.care_repository import CareRepository
from reminders.adapters.db.enrollments.patient_search import PatientQuery
from reminders.adapters.db.orm import checkin_answers, enrollments, scheduled_messages

_steps = count(1)


def message(conn, enrollment_id, *, status="scheduled", send_at=NOW):
    conn.execute(
        insert(scheduled_messages).values(
            enrollment_id=enrollment_id,
            revision=1,
            step_key=f"step{next(_steps)}",
            parts="rest",
            channel="sms",
            category="rest",
            first_sms=False,
            send_at=send_at,
            deadline=send_at + timedelta(hours=6),
            status=status,
            attempts=0,
            created_at=NOW,
            updated_at=NOW,
        )
    )


def three_patients(conn):
    """Ana Lopez (EHR id EPIC-77), Luis Garcia and Ana Smith, enrolled in that order."""
    ana = enrollment(conn, patient(conn))
    conn.execute(update(enrollments).where(enrollments.c.id == ana).values(external_id="EPIC-77"))
    luis = enrollment(
        conn,
        patient(conn, phone="+18055550199", first_name="Luis", last_name="Garcia", email=None),
    )
    smith = enrollment(
        conn, patient(conn, phone=None, last_name="Smith", email="ana.smith@example.org")
    )
    return ana, luis, smith


def search(repo, text="", *, per_page=25):
    """The staff list's search (adapters/db/enrollments/patient_search.py), newest first."""
    return repo.search(PatientQuery(text=text, per_page=per_page), now=NOW).rows


def ids(found):
    return [s.id for s in found]


def test_search_finds_by_name_phone_digits_ehr_id_and_enrollment_id(engine):
    with engine.begin() as conn:
        ana, luis, smith = three_patients(conn)
        repo = CareRepository(conn)
        assert ids(search(repo)) == [smith, luis, ana]  # newest first
        assert ids(search(repo, "ANA")) == [smith, ana]  # any case
        assert ids(search(repo, "ana lopez")) == [ana]  # every word must match
        assert ids(search(repo, "garc")) == [luis]
        assert ids(search(repo, "(805) 555-0199")) == [luis]  # each word in the digits
        assert ids(search(repo, "555-0199")) == [luis]  # phone digits, as typed
        assert ids(search(repo, "805 555 0142")) == [ana]
        assert ids(search(repo, "epic-77")) == [ana]
        assert ids(search(repo, f"#{luis}")) == [luis]
        assert ids(search(repo, "smith@example")) == [smith]
        assert ids(search(repo, "nobody")) == []
        assert ids(search(repo, per_page=1)) == [smith]


def test_a_whole_phone_number_typed_as_digits_finds_the_patient(engine):
    # Once a DataError on PostgreSQL: ten digits were compared with the 32-bit id.
    with engine.begin() as conn:
        ana, _, _ = three_patients(conn)
        assert ids(search(CareRepository(conn), "8055550142")) == [ana]


@pytest.mark.parametrize(
    "typed",
    ["+1 805 555 0142", "805-555-0142", "(805) 555 0142", "+18055550142", "8055550142"],
)
def test_a_phone_number_however_written_finds_the_patient(engine, typed):
    # Once a bug: each word had to match on its own, and the lone "+1" found nobody.
    with engine.begin() as conn:
        ana, _, _ = three_patients(conn)
        assert ids(search(CareRepository(conn), typed)) == [ana]


def test_a_plain_number_finds_the_enrollment_with_that_id(engine):
    with engine.begin() as conn:
        _, luis, _ = three_patients(conn)
        # The enrollment with that id, and any phone holding those digits.
        assert luis in ids(search(CareRepository(conn), str(luis)))
        assert ids(search(CareRepository(conn), f"#{luis}")) == [luis]


def test_a_summary_shows_the_next_unsent_message_and_counts_problems(engine):
    with engine.begin() as conn:
        ana, _, _ = three_patients(conn)
        message(conn, ana, status="sent", send_at=NOW - timedelta(days=1))
        message(conn, ana, status="failed", send_at=NOW - timedelta(hours=5))
        message(conn, ana, status="undelivered", send_at=NOW - timedelta(hours=4))
        message(conn, ana, status="scheduled", send_at=NOW + timedelta(days=2))
        message(conn, ana, status="scheduled", send_at=NOW + timedelta(days=1))
        message(conn, ana, status="cancelled", send_at=NOW + timedelta(hours=1))
        (found,) = search(CareRepository(conn), "EPIC-77")
        (other,) = search(CareRepository(conn), "Luis")
    assert (found.first_name, found.last_name, found.phone) == ("Ana", "Lopez", "+18055550142")
    assert (found.procedure, found.status, found.external_id) == (
        "lumbar_fusion",
        "active",
        "EPIC-77",
    )
    assert found.next_send_at == NOW + timedelta(days=1)
    assert found.problems == 2
    assert (other.next_send_at, other.problems) == (None, 0)


def answer(conn, enrollment_id, *, value, at, kind="pain"):
    checkin_id = checkin(conn, enrollment_id, kind=kind)
    conn.execute(
        insert(checkin_answers).values(
            checkin_id=checkin_id,
            enrollment_id=enrollment_id,
            inbound_id=inbound(conn, enrollment_id=enrollment_id),
            kind=kind,
            answer=value,
            pain=int(value) if value.isdigit() else None,
            red_flag=False,
            answered_at=at,
        )
    )


def test_answer_since_is_the_newest_answer_of_that_kind_since_then(engine):
    with engine.begin() as conn:
        ana = enrollment(conn, patient(conn))
        other = enrollment(conn, patient(conn, phone="+18055550199"))
        answer(conn, ana, value="3", at=NOW - timedelta(days=6))
        answer(conn, ana, value="5", at=NOW - timedelta(days=1))
        answer(conn, ana, value="7", at=NOW - timedelta(hours=1))
        answer(conn, ana, value="no", at=NOW, kind="warning")
        answer(conn, other, value="9", at=NOW)
        repo = CareRepository(conn)
        assert repo.answer_since(ana, kind="pain", since=NOW - timedelta(days=7)) == (
            "7",
            NOW - timedelta(hours=1),
        )
        assert repo.answer_since(ana, kind="warning", since=NOW) == ("no", NOW)
        assert repo.answer_since(ana, kind="pain", since=NOW - timedelta(minutes=30)) is None
        assert repo.answer_since(other, kind="warning", since=NOW - timedelta(days=7)) is None
