"""Check-ins end to end: answers in English and Spanish, one clarifying question, YES
precedence, and silence (one reminder, then a staff task), through the real app."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import test_webhooks as shared
from sqlalchemy import select
from test_webhooks import (
    ANA,
    DAY1_CHECKIN,
    DAY3_CHECKIN,
    DAY7_CHECKIN,
    LUIS,
    deliver,
    enroll,
    reply_of,
    text_in,
)

from reminders.adapters.db.orm import (
    checkin_answers,
    checkins,
    escalations,
    inbound_messages,
    notifications,
)
from reminders.domain.enrollment.commands import GiveConsent
from reminders.domain.model import Channel, ConsentMethod
from reminders.domain.planning.sms import measure
from reminders.services.content import render_text
from reminders.services.replies.checkins import follow_up_checkins

ROOT = Path(__file__).resolve().parents[2]
twilio, smtp, live, web = shared.twilio, shared.smtp, shared.live, shared.web  # fixtures


def answers(engine):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(checkin_answers).order_by(checkin_answers.c.id)).all()


def table(engine, t):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(t).order_by(t.c.id)).all()


def follow_up(c):  # type: ignore[no-untyped-def]
    return follow_up_checkins(uow=c.uow(), delivery=c.delivery, now=c.clock)


def test_pain_answers_in_english_and_spanish(live, web, engine, twilio):
    enroll(live)
    enroll(live, LUIS)
    deliver(live, DAY1_CHECKIN)
    assert "0 to 10" in twilio.sent_to(ANA.phone)[-1]["body"]
    assert "de 0 a 10" in twilio.sent_to(LUIS.phone)[-1]["body"]
    live.clock.advance(minutes=20)
    thanks = reply_of(text_in(web, live, " 4/10 "))
    gracias = reply_of(text_in(web, live, "Siete", phone=LUIS.phone or ""))
    assert thanks and thanks.startswith("Dr. Taqi Spine Care: Thank you") and "911" in thanks
    assert gracias and "Gracias" in gracias and "911" in gracias
    assert [(a.answer, a.pain, a.red_flag) for a in answers(engine)] == [
        ("4", 4, False),
        ("7", 7, False),
    ]
    # Issue 20: the day-1 question asks pain and warning signs; a number alone is half an
    # answer, so the check-in waits for the YES or NO, and a second number is asked again.
    assert {c.status for c in table(engine, checkins)} == {"partial"}
    text_in(web, live, "5")
    last = table(engine, inbound_messages)[-1]
    assert (last.action, last.needs_staff) == ("clarify", True) and len(answers(engine)) == 2


def test_spanish_warning_answers(live, web, engine):
    enroll(live, LUIS)
    enroll(live, replace(LUIS, first_name="Rosa", phone="+18055550144", email="rosa@example.org"))
    deliver(live, DAY3_CHECKIN)
    assert "Gracias" in (reply_of(text_in(web, live, "No", phone="+18055550144")) or "")
    urgent = reply_of(text_in(web, live, "Sí, tengo fiebre", phone=LUIS.phone or ""))
    assert urgent and "Llame ahora" in urgent and "911" in urgent
    assert [(a.answer, a.red_flag) for a in answers(engine)] == [("no", False), ("yes", True)]


def test_an_unclear_reply_gets_one_clarifying_question(live, web, engine):
    enroll(live)
    deliver(live, DAY1_CHECKIN)
    first = reply_of(text_in(web, live, "not great"))
    assert first and "pain 0-10 and YES or NO" in first
    # Issue 20: what we cannot read is shown to staff at once, and the patient is told to call.
    assert "If something is wrong, call us now at 805-242-4884" in first
    second = reply_of(text_in(web, live, "I told you, not great"))
    assert second and "YES or NO" not in second and "805-242-4884" in second
    assert [(r.action, r.needs_staff) for r in table(engine, inbound_messages)] == [
        ("clarify", True),
        ("unclear", True),
    ]
    assert reply_of(text_in(web, live, "seven out of 10")) and answers(engine)[0].pain == 7


def test_days_1_3_and_7_ask_both_questions_and_half_an_answer_counts(live, web, engine):
    """Issue 12: one text a day asks pain and warning signs; "3" alone, "4 no" and YES alone."""
    enroll(live)
    deliver(live, DAY1_CHECKIN)
    assert "Thank you" in (reply_of(text_in(web, live, "3")) or "")
    deliver(live, DAY3_CHECKIN)
    assert "Thank you" in (reply_of(text_in(web, live, "No, 4")) or "")
    deliver(live, DAY7_CHECKIN)
    urgent = reply_of(text_in(web, live, "yes"))
    assert urgent and "call us now" in urgent.lower()
    assert [(a.kind, a.answer, a.pain, a.red_flag) for a in answers(engine)] == [
        ("pain_warning", "3", 3, False),
        ("pain_warning", "4 no", 4, False),
        ("pain_warning", "yes", None, True),
    ]
    # Issue 20: the day-7 pain half is still open, so a second YES answers nothing: it is
    # asked once more and staff see it (it used to be filed as an opt-in).
    text_in(web, live, "YES")
    last = table(engine, inbound_messages)[-1]
    assert (last.action, last.needs_staff) == ("clarify", True)


def test_no_answer_gets_one_reminder_by_email_then_a_staff_task(live, engine, smtp):
    """The default cap (1 a day, 3 a week) leaves no room for another text: email it is."""
    _, inbox = smtp
    enroll(live)
    deliver(live, DAY1_CHECKIN)
    mails = len(inbox.messages)
    live.clock.advance(hours=23)
    assert follow_up(live) == {}
    live.clock.advance(hours=1, minutes=1)
    assert follow_up(live) == {"reminder_email": 1, "reminder_sent": 1}
    assert follow_up(live) == {}  # a second beat sends nothing more
    reminder = inbox.messages[mails]
    assert reminder["To"] == ANA.email and reminder["Subject"] == "Please answer our text"
    text = reminder.get_body(("plain",)).get_content()
    assert "how bad your pain is" in text and "911" in text and "805-242-4884" in text
    live.clock.advance(hours=24)
    assert follow_up(live) == {"task": 1}
    assert follow_up(live) == {}
    (task,) = table(engine, escalations)
    assert (task.kind, task.status) == ("no_answer", "open") and "pain (0-10)" in task.reason
    assert table(engine, checkins)[0].status == "no_answer"


def test_with_written_consent_to_more_texts_the_reminder_is_a_text_in_waking_hours(
    live, web, engine, twilio
):
    more = (GiveConsent(Channel.SMS, ConsentMethod.WRITTEN, more_frequent_sms=True),)
    enroll(live, replace(ANA, consents=more, email=None))
    deliver(live, DAY1_CHECKIN)
    texts = len(twilio.sent_to(ANA.phone))
    live.clock.advance(hours=37)  # day 2, 22:00 in Los Angeles: quiet hours
    assert follow_up(live) == {"waiting": 1}
    live.clock.advance(hours=10)  # day 3, 08:00
    assert follow_up(live) == {"reminder_sms": 1, "reminder_sent": 1}
    reminder = twilio.sent_to(ANA.phone)[texts]
    assert "No answer yet" in reminder["body"] and "911" in reminder["body"]
    assert measure(reminder["body"]).segments == 1
    (note,) = table(engine, notifications)
    assert (note.kind, note.status, note.provider_id) == (
        "checkin_reminder",
        "sent",
        reminder["sid"],
    )
    live.clock.advance(hours=2)
    late = reply_of(text_in(web, live, "2"))  # a late answer still counts
    assert late and "Thank you" in late
    live.clock.advance(hours=30)
    assert follow_up(live) == {}  # answered: no task


def test_without_email_or_room_for_a_text_staff_get_the_task_at_once(live, engine):
    enroll(live, replace(ANA, email=None, consents=(GiveConsent(Channel.SMS),)))
    deliver(live, DAY1_CHECKIN)
    live.clock.advance(hours=24, minutes=1)
    assert follow_up(live) == {"task": 1}
    (task,) = table(engine, escalations)
    assert "SMS limit" in task.reason


def test_opting_out_closes_the_open_question(live, web, engine):
    enroll(live)
    deliver(live, DAY1_CHECKIN)
    text_in(web, live, "STOP")
    live.clock.advance(hours=49)
    assert follow_up(live) == {}
    assert table(engine, checkins)[0].status == "closed"


REPLIES = [
    "help",
    "silence_pain",
    "silence_warning",
    "clarify_pain",
    "clarify_warning",
    "thanks",
    "red_flag",
    "received",
    "reminder_pain",
    "reminder_warning",
    "clarify_pain_warning",
    "reminder_pain_warning",
    "clarify_bone_med",
    "reminder_bone_med",
]
BUDGET = {"en": 1, "es": 2}  # segments: Spanish texts are GSM-7 now (issue 12), 2 at most


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_reply_names_the_clinic_and_fits_its_budget(container, language):
    clinic = {"name": container.clinic.name, "phone": container.clinic.phone}
    for name in REPLIES:
        assert (ROOT / "templates" / "replies" / language / f"{name}.j2").exists()
        text = render_text(container.renderer, f"{language}/{name}.j2", clinic=clinic, kind="")
        size = measure(text)
        assert text.startswith(f"{clinic['name']}: "), name
        assert "911" in text, name
        if language == "en":
            assert size.encoding == "GSM-7", name
        assert size.segments <= BUDGET[language], f"{language}/{name}: {size}"
    stop = {"en": "Reply STOP", "es": "responda PARAR"}[language]  # a word the phone honours
    assert stop in render_text(container.renderer, f"{language}/help.j2", clinic=clinic)
    for kind in ("pain", "warning", "pain_warning", "bone_med"):
        body = render_text(
            container.renderer, f"{language}/reminder.email.j2", clinic=clinic, kind=kind
        )
        assert clinic["phone"] in body
    alert = render_text(
        container.renderer,
        "staff/oncall.sms.j2",
        clinic=clinic,
        patient={"short_name": "Guadalupe M."},
        enrollment_id=123456,
        reason="answered YES to new numbness, weakness, fever or redness",
        link="https://reminders.clinic.example/staff/inbox#escalation-123456",
    )
    assert measure(alert).encoding == "GSM-7" and measure(alert).segments <= 2


def test_when_the_beat_was_down_past_the_reminder_window_staff_get_the_task(live, engine, smtp):
    _, inbox = smtp
    enroll(live)
    deliver(live, DAY1_CHECKIN)
    mails = len(inbox.messages)
    live.clock.advance(hours=50)
    assert follow_up(live) == {"task": 1}
    assert len(inbox.messages) == mails  # no reminder two days late
    assert "too late for a reminder" in table(engine, escalations)[0].reason


DAY90 = datetime(2026, 8, 2, 17, 0, tzinfo=UTC)  # day 90, 10:00 in Los Angeles


@pytest.mark.parametrize(("reply", "tasks"), [("No", 1), ("yes", 0)])
def test_a_no_to_the_bone_medicine_question_opens_a_staff_task(
    live, web, engine, twilio, reply, tasks
):
    enroll(live)
    deliver(live, DAY90)
    asked = twilio.sent_to(ANA.phone)[-1]["body"]
    assert "bone medicine" in asked and "YES or NO" in asked and "805-242-4884" in asked
    live.clock.advance(minutes=30)
    thanks = reply_of(text_in(web, live, reply))
    assert thanks and "Thank you" in thanks
    (answer,) = answers(engine)
    assert (answer.kind, answer.answer, answer.red_flag) == ("bone_med", reply.lower(), False)
    found = table(engine, escalations)
    assert len(found) == tasks
    if tasks:
        assert found[0].kind == "task" and "bone medicine" in found[0].reason
