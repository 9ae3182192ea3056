"""Dispatch and send on real databases, through the real twilio client and a real SMTP server."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from reminders.adapters.db.orm import scheduled_messages, sms_opt_outs
from reminders.adapters.providers.twilio_sms import TwilioSms
from reminders.domain.model import Channel, MessageStatus
from reminders.services.delivery.reconcile import reconcile_expired
from reminders.services.delivery.sending import Outcome, send_messages
from reminders.services.enrollments import enrollment as enroll_svc
from support.live import ANA, DAYTIME, dispatch, enroll, row, send, sms_id


def test_due_messages_go_out_by_sms_and_email(live, engine, twilio, smtp):
    enroll(live)
    ids = dispatch(live)
    assert len(ids) >= 2
    assert {row(engine, i).status for i in ids} == {"queued"}
    assert [send(live, i) for i in ids] == [Outcome.SENT] * len(ids)

    (text,) = twilio.sent_to("+18055550142")
    assert text["from"] == "+18055550100"
    assert text["body"].startswith("Dr. Taqi Spine Care: ")
    assert "STOP" in text["body"]  # the first text says how to opt out
    assert text["status_callback"] == "http://127.0.0.1:8000/webhooks/twilio/status"
    sms_row = row(engine, sms_id(ids, engine))
    assert (sms_row.status, sms_row.provider_id, sms_row.attempts) == ("sent", text["sid"], 1)
    assert sms_row.body == text["body"] and sms_row.sent_at == DAYTIME

    _, inbox = smtp
    assert inbox.messages
    mail = inbox.messages[0]
    assert mail["To"] == "ana@example.org"
    assert mail["Message-ID"].startswith("<rr-")
    text_part = mail.get_body(("plain",)).get_content()
    html_part = mail.get_body(("html",)).get_content()
    assert "Ana" in text_part and "911" in text_part
    assert "<p" in html_part and "Dr. Taqi Spine Care" in html_part


def test_a_late_patients_catch_up_text_goes_out_first_with_the_911_list(live, engine, twilio):
    # Enrolled 30 hours after the procedure, text only: the stale day-0 warning text is
    # caught up and goes through the ordinary pipeline, at once (10:00 in Los Angeles).
    late = replace(
        ANA, email=None, consents=ANA.consents[:1], performed_at=DAYTIME - timedelta(hours=30)
    )
    enroll(live, late)
    ids = dispatch(live)
    assert [send(live, i) for i in ids] == [Outcome.SENT]
    (text,) = twilio.sent_to("+18055550142")
    assert "Call 911 for: Chest pain" in text["body"] and "Fever of 100.4F" in text["body"]
    assert "Reply STOP" in text["body"]
    assert row(engine, ids[0]).step_key == "first_text_same_day"


def test_a_duplicate_task_sends_once(live, engine, twilio):
    enroll(live)
    mid = sms_id(dispatch(live), engine)
    assert send(live, mid) is Outcome.SENT
    assert send(live, mid) is Outcome.NOTHING
    assert len(twilio.messages) == 1


@pytest.mark.parametrize(
    ("fault", "outcome", "status", "error_class"),
    [
        ({"status": 429, "code": 20429}, Outcome.RETRY, "scheduled", "transient"),
        ({"status": 500}, Outcome.RETRY, "scheduled", "transient"),
        ({"status": 400, "code": 21211}, Outcome.FAILED, "failed", "permanent"),
        ({"status": 400, "code": 21614}, Outcome.FAILED, "failed", "permanent"),
    ],
)
def test_provider_errors_by_class(live, engine, twilio, fault, outcome, status, error_class):
    enroll(live)
    mid = sms_id(dispatch(live), engine)
    twilio.fail(**fault)
    assert send(live, mid) is outcome
    r = row(engine, mid)
    assert (r.status, r.error_class) == (status, error_class)
    assert r.error_code == (str(fault["code"]) if fault.get("code") else None)
    if outcome is Outcome.RETRY:
        assert DAYTIME < r.send_at <= DAYTIME + timedelta(seconds=30)
        live.clock.now = r.send_at
        assert dispatch(live) == [mid]
        assert send(live, mid) is Outcome.SENT
        assert row(engine, mid).attempts == 2


def test_a_hung_twilio_is_asked_about_before_a_retry(live, engine, twilio):
    enroll(live)
    mid = sms_id(dispatch(live), engine)
    live.delivery.sms = TwilioSms(
        account_sid=twilio.account_sid,
        auth_token=twilio.auth_token,
        from_number="+18055550100",
        api_base_url=twilio.url,
        timeout=0.5,
    )
    twilio.fail(hang=2.0)
    # No answer: Twilio may have taken it, so it is not retried before Twilio is asked.
    assert send(live, mid) is Outcome.UNKNOWN
    r = row(engine, mid)
    assert r.status == "sending" and "not reachable" in r.error_message
    assert reconcile_expired(uow=live.uow(), delivery=live.delivery, now=live.clock) == {
        "confirmed": 0,
        "resend": 0,
        "failed": 0,
        "unknown": 0,
    }  # a late answer still has time to land
    live.clock.advance(seconds=live.delivery.settle_after.total_seconds() + 1)
    assert reconcile_expired(uow=live.uow(), delivery=live.delivery, now=live.clock)["resend"] == 1
    r = row(engine, mid)
    assert r.status == "scheduled" and "not reachable" in r.error_message
    assert twilio.messages == []  # the hung request never created a message


def test_retries_stop_at_the_deadline(live, engine, twilio):
    enroll(live)
    mid = sms_id(dispatch(live), engine)
    twilio.fail(status=503, times=100)
    outcomes = []
    while (outcome := send(live, mid)) is Outcome.RETRY:
        outcomes.append(outcome)
        live.clock.now = row(engine, mid).send_at
        assert mid in dispatch(live)  # (the unsent emails come back too: their lease ran out)
    r = row(engine, mid)
    assert outcome is Outcome.FAILED and r.status == "failed"
    assert "deadline" in r.status_reason
    assert r.send_at <= r.deadline and len(outcomes) >= 3


def test_carrier_opt_out_stops_every_text_to_that_phone(live, engine, twilio):
    first = enroll(live).enrollment
    second = enroll(live, replace(ANA, external_id="EHR-2nd")).enrollment  # same phone
    mid = sms_id(dispatch(live), engine)
    twilio.fail(status=400, code=21610)
    assert send(live, mid) is Outcome.FAILED
    assert row(engine, mid).error_class == "opted_out"
    with engine.connect() as conn:
        assert conn.execute(select(sms_opt_outs.c.active, sms_opt_outs.c.source)).one() == (
            True,
            "carrier_21610",
        )
        live_sms = conn.execute(
            select(scheduled_messages.c.id).where(
                scheduled_messages.c.enrollment_id.in_([first.id, second.id]),
                scheduled_messages.c.channel == "sms",
                scheduled_messages.c.status.in_(["scheduled", "queued"]),
            )
        ).all()
    assert live_sms == []
    emails = [
        m
        for m in enroll_svc.get_enrollment(first.id, uow=live.uow()).messages
        if m.channel is Channel.EMAIL and m.status is MessageStatus.SCHEDULED
    ]
    assert emails, "email continues after an SMS opt-out"


def test_quiet_hours_at_send_time_wait_for_morning(live, engine, twilio):
    enroll(live, replace(ANA, performed_at=DAYTIME - timedelta(hours=1)))
    # The workers were down; it is now 22:30 in Los Angeles when the message is claimed.
    live.clock.now = datetime(2026, 5, 5, 5, 30, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(update(scheduled_messages).values(deadline=datetime(2026, 5, 6, tzinfo=UTC)))
    ids = dispatch(live)
    assert ids and {send(live, i) for i in ids} == {Outcome.DEFERRED}
    r = row(engine, ids[0])
    assert r.status == "scheduled"
    assert r.send_at == datetime(2026, 5, 5, 15, 0, tzinfo=UTC)  # 08:00 PDT
    assert twilio.messages == []


def test_a_stale_message_is_skipped_not_sent(live, engine, twilio):
    enroll(live)
    ids = dispatch(live)
    live.clock.now = DAYTIME + timedelta(days=2)
    assert {send(live, i) for i in ids} == {Outcome.SKIPPED}
    assert "stale" in row(engine, ids[0]).status_reason
    assert twilio.messages == []


def test_cancel_between_dispatch_and_send_wins(live, engine, twilio):
    e = enroll(live).enrollment
    ids = dispatch(live)
    enroll_svc.cancel(e.id, uow=live.uow(), by="nurse", reason="x", now=live.clock())
    assert {send(live, i) for i in ids} == {Outcome.NOTHING}
    assert {row(engine, i).status for i in ids} == {"cancelled"}
    assert twilio.messages == []


def test_a_broken_template_fails_visibly_without_a_provider_call(live, engine, twilio, monkeypatch):
    from jinja2 import UndefinedError

    enroll(live)
    mid = sms_id(dispatch(live), engine)

    def broken(*a, **k):
        raise UndefinedError("'patient' has no attribute 'nickname'")

    monkeypatch.setattr(live.delivery.renderer, "sms", broken)
    assert send(live, mid) is Outcome.FAILED
    assert "template error" in row(engine, mid).error_message
    assert twilio.messages == []


def test_no_rate_limit_token_in_time_puts_the_texts_back_unsent(live, engine, twilio):
    for n in range(3):
        enroll(live, replace(ANA, external_id=f"EHR-rate-{n}", phone=f"+1805555010{n}"))
    ids = [i for i in dispatch(live) if row(engine, i).channel == "sms"]
    assert len(ids) == 3

    class OneToken:
        def __init__(self) -> None:
            self.left = 1

        def acquire(self, sender: str, *, timeout: float) -> bool:
            self.left -= 1
            return self.left >= 0

    live.delivery.limiter = OneToken()
    outcomes = send_messages(ids, uow=live.uow(), delivery=live.delivery, now=live.clock)
    assert sorted(outcomes.values()) == sorted([Outcome.SENT, Outcome.DEFERRED, Outcome.DEFERRED])
    assert len(twilio.messages) == 1
    held = [row(engine, i) for i, o in outcomes.items() if o is Outcome.DEFERRED]
    assert {(r.status, r.attempts) for r in held} == {("queued", 0)}
    assert all(r.lease_until <= live.clock() for r in held)  # the next dispatch takes them
    live.clock.advance(seconds=1)
    assert sorted(dispatch(live)) == sorted(r.id for r in held)
