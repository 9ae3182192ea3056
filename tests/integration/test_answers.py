"""A patient's own words that signal danger reach on-call staff at once, like a red-flag answer:
through the real app, the fake Twilio and the SMTP server, in English and Spanish."""

from __future__ import annotations

import pytest
import test_webhooks as shared
from sqlalchemy import select
from test_alerts import assert_alerted
from test_webhooks import DAY1_CHECKIN, LUIS, ONCALL_PHONE, deliver, enroll, reply_of, text_in

from reminders.adapters.db.orm import checkin_answers, escalations, inbound_messages

twilio, smtp, live, web = shared.twilio, shared.smtp, shared.live, shared.web  # fixtures
CALL_NOW = "Dr. Taqi Spine Care: Call us now at 805-242-4884."


def rows(engine, t):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(t).order_by(t.c.id)).all()


def test_chest_pain_with_no_question_open_pages_on_call_staff(live, web, engine, twilio, smtp):
    _, inbox = smtp
    enroll(live)
    live.clock.advance(hours=3)
    guidance = reply_of(text_in(web, live, "I have chest pain since this morning"))
    assert (guidance or "").startswith(CALL_NOW) and "Call 911" in (guidance or "")
    assert_alerted(twilio, inbox, "chest pain")
    (e,) = rows(engine, escalations)
    assert (e.kind, e.status, e.checkin_id) == ("red_flag", "open", None)
    assert e.reason == 'wrote "chest pain" in a text (911: chest)'
    (text,) = rows(engine, inbound_messages)
    assert (text.action, text.needs_staff) == ("red_flag", False)


def test_spanish_words_page_too(live, web, engine, twilio):
    enroll(live, LUIS)
    live.clock.advance(hours=3)
    guidance = reply_of(text_in(web, live, "No puedo respirar bien", phone=LUIS.phone or ""))
    assert "Llame ahora" in (guidance or "")
    (alert,) = twilio.sent_to(ONCALL_PHONE)
    assert "Luis G." in alert["body"]


@pytest.mark.parametrize("words", ["no fever, thanks", "feeling better, no chest pain"])
def test_a_denial_goes_to_the_inbox_without_paging(live, web, engine, twilio, words):
    enroll(live)
    live.clock.advance(hours=3)
    assert "Call us now" not in (reply_of(text_in(web, live, words)) or "")
    assert twilio.sent_to(ONCALL_PHONE) == [] and rows(engine, escalations) == []
    (text,) = rows(engine, inbound_messages)
    assert (text.action, text.needs_staff) == ("unmatched", True)


def test_a_mild_pain_score_with_a_fever_is_a_red_flag(live, web, engine, twilio, smtp):
    enroll(live)
    deliver(live, DAY1_CHECKIN)
    live.clock.advance(minutes=5)
    assert (reply_of(text_in(web, live, "3, but I have a fever")) or "").startswith(CALL_NOW)
    (answer,) = rows(engine, checkin_answers)
    assert (
        answer.red_flag and answer.reason == 'answered 3 and wrote "fever" in a text (call: fever)'
    )
    (alert,) = twilio.sent_to(ONCALL_PHONE)
    assert "fever" in alert["body"]


def test_an_opted_out_patient_in_danger_still_reaches_staff(live, web, engine, twilio):
    enroll(live)
    live.clock.advance(hours=3)
    text_in(web, live, "STOP")
    assert reply_of(text_in(web, live, "chest pain and I passed out")) is None
    (alert,) = twilio.sent_to(ONCALL_PHONE)
    assert "chest pain" in alert["body"]
