"""Red flags end to end: a reply through the real app opens an escalation, the on-call
contact gets it at the fake Twilio and the SMTP server, and failed alerts are retried."""

from __future__ import annotations

import pytest
import test_webhooks as shared
from sqlalchemy import select
from test_webhooks import (
    DAY1_CHECKIN,
    DAY3_CHECKIN,
    DAY7_CHECKIN,
    LUIS,
    ONCALL_EMAIL,
    ONCALL_PHONE,
    deliver,
    enroll,
    reply_of,
    text_in,
)
from webtools import add_staff, login

from reminders.adapters.db.orm import escalations, notifications
from reminders.bootstrap import bootstrap
from reminders.entrypoints.web.app import create_app
from reminders.services.delivery.notifications import retry_notifications

twilio, smtp, live, web = shared.twilio, shared.smtp, shared.live, shared.web  # fixtures


def table(engine, t):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(t).order_by(t.c.id)).all()


def assert_alerted(twilio, inbox, words: str) -> None:  # type: ignore[no-untyped-def]
    (alert,) = twilio.sent_to(ONCALL_PHONE)
    assert alert["body"].startswith("Dr. Taqi Spine Care ALERT: Ana L.") and words in alert["body"]
    assert "https://reminders.clinic.example/staff/inbox#escalation-" in alert["body"]
    (mail,) = [m for m in inbox.messages if m["To"] == ONCALL_EMAIL]
    assert mail["Subject"].strip().startswith("URGENT: Ana L.") and words in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    assert "+18055550142" in text and "Ana Lopez" in text


@pytest.mark.parametrize("answer", ["9", "nine/10", "9 out of 10"])
def test_severe_pain_alerts_on_call_staff_at_once(live, web, engine, twilio, smtp, answer):
    _, inbox = smtp
    enroll(live)
    deliver(live, DAY1_CHECKIN)
    live.clock.advance(minutes=5)
    guidance = reply_of(text_in(web, live, answer))
    assert guidance == (
        "Dr. Taqi Spine Care: Call us now at 805-242-4884. Chest pain, hard to breathe or swallow,"
        " swollen throat, fainting, very sleepy, or cannot move a leg? Call 911."
    )
    assert_alerted(twilio, inbox, "pain 9/10")
    (e,) = table(engine, escalations)
    assert (e.kind, e.status, e.reason) == ("red_flag", "open", "pain 9/10 (8 or more)")
    assert {(n.channel, n.status, n.attempts) for n in table(engine, notifications)} == {
        ("sms", "sent", 1),
        ("email", "sent", 1),
    }


def test_pain_up_three_points_since_the_last_answer_is_a_red_flag(live, web, engine, twilio, smtp):
    _, inbox = smtp
    enroll(live)
    deliver(live, DAY1_CHECKIN)
    assert "Thank you" in (reply_of(text_in(web, live, "3")) or "")
    deliver(live, DAY3_CHECKIN)
    text_in(web, live, "no")
    deliver(live, DAY7_CHECKIN)
    assert "call us now" in (reply_of(text_in(web, live, "6")) or "").lower()
    assert_alerted(twilio, inbox, "pain up from 3 to 6/10")


def test_yes_to_warning_signs_alerts_on_call_staff(live, web, engine, twilio, smtp):
    _, inbox = smtp
    enroll(live)
    deliver(live, DAY3_CHECKIN)
    assert "call us now" in (reply_of(text_in(web, live, "YES")) or "").lower()
    assert_alerted(twilio, inbox, "answered YES to new numbness")


def test_a_spanish_si_alerts_too(live, web, engine, twilio):
    enroll(live, LUIS)
    deliver(live, DAY3_CHECKIN)
    assert "Llame ahora" in (reply_of(text_in(web, live, "sí", phone=LUIS.phone or "")) or "")
    (alert,) = twilio.sent_to(ONCALL_PHONE)
    assert "Luis G." in alert["body"]


def test_a_failed_alert_is_visible_and_retried_by_the_beat(live, web, engine, twilio, smtp):
    enroll(live)
    deliver(live, DAY1_CHECKIN)
    twilio.fail(status=503, code=20503, to=ONCALL_PHONE, times=2)
    text_in(web, live, "10")
    sms = next(n for n in table(engine, notifications) if n.channel == "sms")
    # Waiting for its next try (the outbound lifecycle's `scheduled`); staff read "failed".
    assert (sms.status, sms.error_class) == ("scheduled", "transient") and sms.next_attempt_at
    add_staff(live)
    login(web)
    page = web.get("/staff/inbox").text
    assert 'data-status="failed"' in page and "next try" in page
    assert retry_notifications(uow=live.uow(), delivery=live.delivery, now=live.clock) == {}
    live.clock.now = sms.next_attempt_at
    assert retry_notifications(uow=live.uow(), delivery=live.delivery, now=live.clock) == {
        "failed": 1
    }
    live.clock.now = table(engine, notifications)[0].next_attempt_at
    assert retry_notifications(uow=live.uow(), delivery=live.delivery, now=live.clock) == {
        "sent": 1
    }
    assert len(twilio.sent_to(ONCALL_PHONE)) == 1
    assert (table(engine, notifications)[0].status, table(engine, notifications)[0].attempts) == (
        "sent",
        3,
    )


def test_a_permanent_failure_says_to_call_on_call_staff(live, web, engine, twilio):
    enroll(live)
    deliver(live, DAY1_CHECKIN)
    twilio.fail(status=400, code=21211, to=ONCALL_PHONE)
    text_in(web, live, "8")
    sms = next(n for n in table(engine, notifications) if n.channel == "sms")
    assert (sms.status, sms.error_code, sms.next_attempt_at) == ("failed", "21211", None)
    add_staff(live)
    login(web)
    assert "gave up: call on-call staff yourself" in web.get("/staff/inbox").text


def test_an_alert_the_carrier_fails_later_is_retried(live, web, engine, twilio):
    enroll(live)
    deliver(live, DAY1_CHECKIN)
    text_in(web, live, "9")
    (alert,) = twilio.sent_to(ONCALL_PHONE)
    shared.status_in(web, live, alert["sid"], "undelivered", "30003")
    sms = next(n for n in table(engine, notifications) if n.channel == "sms")
    assert (sms.status, sms.error_code) == ("undelivered", "30003") and sms.next_attempt_at
    live.clock.now = sms.next_attempt_at
    assert retry_notifications(uow=live.uow(), delivery=live.delivery, now=live.clock) == {
        "sent": 1
    }
    assert len(twilio.sent_to(ONCALL_PHONE)) == 2


def test_without_an_on_call_contact_the_escalation_says_nobody_was_alerted(
    settings, engine, clock, twilio
):
    clock.now = shared.PERFORMED
    plain = bootstrap(
        settings.model_copy(
            update={
                "public_url": shared.PUBLIC,
                "twilio_account_sid": twilio.account_sid,
                "twilio_auth_token": twilio.auth_token,
                "twilio_from_number": shared.SENDER,
                "twilio_api_base_url": twilio.url,
            }
        ),
        engine=engine,
        clock=clock,
    )
    client = shared.TestClient(create_app(plain), base_url="https://testserver")
    enroll(plain)
    deliver(plain, DAY1_CHECKIN)
    assert "call us now" in (reply_of(text_in(client, plain, "9")) or "").lower()
    (e,) = table(engine, escalations)
    assert "Nobody was alerted" in e.notes and not table(engine, notifications)
    add_staff(plain)
    login(client)
    assert "No on-call contact is set" in client.get("/staff/inbox").text


def test_alerts_are_queued_for_the_workers_by_id(live, web, engine, twilio):
    shared.QUEUED.clear()
    enroll(live)
    deliver(live, DAY1_CHECKIN)
    text_in(web, live, "9")
    ids = sorted(n.id for n in table(engine, notifications))
    assert [("reminders.send_alerts", (ids,))] == shared.QUEUED


def test_a_broker_outage_delays_an_alert_by_a_minute_not_forever(live, web, engine, twilio):
    enroll(live)
    deliver(live, DAY1_CHECKIN)

    def broker_down(name, *args):  # type: ignore[no-untyped-def]
        raise ConnectionError("redis is down")

    live.send_task = broker_down
    assert "call us now" in reply_of(text_in(web, live, "9")).lower()  # the patient is answered
    assert twilio.sent_to(ONCALL_PHONE) == []
    assert {n.status for n in table(engine, notifications)} == {"scheduled"}  # not yet taken
    live.clock.advance(minutes=2)  # the beat's retry picks up what was never queued
    assert retry_notifications(uow=live.uow(), delivery=live.delivery, now=live.clock) == {
        "sent": 2
    }
    assert len(twilio.sent_to(ONCALL_PHONE)) == 1
