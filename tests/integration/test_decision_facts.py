"""DueMessages: a batch read with patient, consent, opt-out, a lifted cap and the phone's texts."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

from rows import NOW, PHONE, consent, enrollment, patient
from sqlalchemy import insert

from reminders.adapters.db.decision_facts import DueMessages
from reminders.adapters.db.enrollments.opt_out_repository import OptOutRepository
from reminders.adapters.db.orm import scheduled_messages
from reminders.domain.model import Channel, MessageStatus

_steps = count(1)


def message(conn, enrollment_id, *, channel="sms", status="scheduled", send_at=NOW, sent_at=None):
    key = conn.execute(
        insert(scheduled_messages).values(
            enrollment_id=enrollment_id,
            revision=1,
            step_key=f"step{next(_steps)}",
            parts="rest",
            channel=channel,
            category="rest",
            first_sms=False,
            send_at=send_at,
            deadline=send_at + timedelta(hours=6),
            status=status,
            attempts=0,
            sent_at=sent_at,
            created_at=NOW,
            updated_at=NOW,
        )
    ).inserted_primary_key
    assert key is not None
    return int(key[0])


def test_a_batch_comes_in_send_order_with_its_patient_and_plan(engine):
    with engine.begin() as conn:
        eid = enrollment(conn, patient(conn))
        consent(conn, eid, "sms")
        later = message(conn, eid, send_at=NOW + timedelta(minutes=5))
        email = message(conn, eid, channel="email")
        due = DueMessages(conn).load_many([later, email, 999_999], now=NOW)
    assert [d.id for d in due] == [email, later]  # an unknown id is simply not there
    first = due[0]
    assert first.message.channel is Channel.EMAIL
    assert first.message.status is MessageStatus.SCHEDULED
    assert (first.patient.first_name, first.patient.phone, first.patient.timezone) == (
        "Ana",
        PHONE,
        "America/Los_Angeles",
    )
    assert (first.procedure, first.levels, first.overnight, first.facts.enrollment) == (
        "lumbar_fusion",
        1,
        False,
        "active",
    )
    assert first.performed_at == NOW - timedelta(days=1)
    assert first.facts.consent_given is False  # consent to texts is not consent to email
    assert due[1].facts.consent_given is True
    assert first.facts.other_texts == ()  # emails do not count toward the SMS cap


def test_consent_withdrawn_is_no_consent(engine):
    with engine.begin() as conn:
        eid = enrollment(conn, patient(conn))
        consent(conn, eid, "sms", given=False)
        mid = message(conn, eid)
        due = DueMessages(conn).load(mid, now=NOW)
    assert due is not None and due.facts.consent_given is False


def test_an_opted_out_phone_blocks_its_texts_but_not_its_emails(engine):
    with engine.begin() as conn:
        eid = enrollment(conn, patient(conn))
        consent(conn, eid, "sms")
        consent(conn, eid, "email")
        text, email = message(conn, eid), message(conn, eid, channel="email")
        OptOutRepository(conn).opt_out(PHONE, source="keyword", detail="STOP", now=NOW)
        due = {d.id: d for d in DueMessages(conn).load_many([text, email], now=NOW)}
    assert due[text].facts.opted_out is True
    assert due[email].facts.opted_out is False


def test_only_written_consent_to_more_texts_lifts_the_cap(engine):
    with engine.begin() as conn:
        written = enrollment(conn, patient(conn))
        consent(conn, written, "sms", method="written", more_frequent_sms=True)
        verbal = enrollment(conn, patient(conn, phone="+18055550199"))
        consent(conn, verbal, "sms", method="verbal", more_frequent_sms=True)
        plain = enrollment(conn, patient(conn, phone="+18055550198"))
        consent(conn, plain, "sms", method="written")
        ids = [message(conn, e) for e in (written, verbal, plain)]
        due = {d.message.enrollment_id: d for d in DueMessages(conn).load_many(ids, now=NOW)}
    assert due[written].facts.cap_lifted is True
    assert due[verbal].facts.cap_lifted is False
    assert due[plain].facts.cap_lifted is False
    assert all(d.facts.consent_given for d in due.values())


def test_other_texts_are_those_that_went_out_to_the_phone_outside_the_batch(engine):
    with engine.begin() as conn:
        mine = enrollment(conn, patient(conn))
        consent(conn, mine, "sms")
        # The same phone in an older enrollment (a second procedure).
        older = enrollment(conn, patient(conn))
        yesterday = NOW - timedelta(days=1)
        message(conn, older, status="sent", send_at=yesterday, sent_at=yesterday)
        message(conn, older, status="delivered", send_at=yesterday, sent_at=yesterday)
        message(conn, older, status="scheduled", send_at=NOW + timedelta(days=2))  # not yet
        message(conn, older, status="cancelled", send_at=NOW - timedelta(hours=1))
        long_ago = NOW - timedelta(days=30)
        message(conn, older, status="sent", send_at=long_ago, sent_at=long_ago)  # outside
        # Another phone's texts never count.
        stranger = enrollment(conn, patient(conn, phone="+18055550199"))
        message(conn, stranger, status="sent", send_at=yesterday, sent_at=yesterday)
        batch = [message(conn, mine), message(conn, mine, send_at=NOW + timedelta(hours=1))]
        due = DueMessages(conn).load_many(batch, now=NOW)
    assert [d.facts.other_texts for d in due] == [(yesterday, yesterday)] * 2


def test_an_empty_batch_reads_nothing(engine):
    with engine.connect() as conn:
        assert DueMessages(conn).load_many([], now=NOW) == []
        assert DueMessages(conn).load(1, now=NOW) is None
