"""Silence is a signal: two check-ins in a row unanswered get one gentle text, then a staff
task "no answer from this patient since day N"; a third adds to that task, never a text."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import test_webhooks as shared
from sqlalchemy import select
from test_webhooks import ANA, DAY1_CHECKIN, DAY3_CHECKIN, DAY7_CHECKIN, deliver, enroll

from reminders.adapters.db.orm import escalations
from reminders.domain.enrollment.commands import GiveConsent
from reminders.domain.model import Channel, ConsentMethod
from reminders.services.replies.checkins import follow_up_checkins

twilio, smtp, live, web = shared.twilio, shared.smtp, shared.live, shared.web  # fixtures
MORE = (GiveConsent(Channel.SMS, ConsentMethod.WRITTEN, more_frequent_sms=True),)


def follow_up(c, at):  # type: ignore[no-untyped-def]
    c.clock.now = at
    return follow_up_checkins(uow=c.uow(), delivery=c.delivery, now=c.clock)


def tasks(engine):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(escalations).order_by(escalations.c.id)).all()


def test_two_unanswered_check_ins_get_a_gentle_text_then_one_task(live, engine, twilio):
    enroll(live, replace(ANA, consents=MORE, email=None))
    day = timedelta(days=1)
    deliver(live, DAY1_CHECKIN)
    assert follow_up(live, DAY1_CHECKIN + day) == {"reminder_sms": 1, "reminder_sent": 1}
    assert "No answer yet." in twilio.sent_to(ANA.phone)[-1]["body"]
    deliver(live, DAY3_CHECKIN)
    assert follow_up(live, DAY1_CHECKIN + 2 * day) == {"task": 1}  # day 1's own task
    assert follow_up(live, DAY3_CHECKIN + day) == {"reminder_sms": 1, "reminder_sent": 1}
    gentle = twilio.sent_to(ANA.phone)[-1]["body"]
    assert gentle.startswith("Dr. Taqi Spine Care: We miss hearing from you.")
    assert "YES or NO?" in gentle and "911" in gentle
    assert follow_up(live, DAY3_CHECKIN + 2 * day) == {"task": 1}
    first, silence = tasks(engine)
    assert (first.kind, silence.kind) == ("no_answer", "silence")
    assert silence.reason.startswith(
        "no answer from this patient since day 1 (2 check-ins in a row"
    )

    texts = len(twilio.sent_to(ANA.phone))
    deliver(live, DAY7_CHECKIN)
    texts += 1  # the day-7 question itself
    assert len(twilio.sent_to(ANA.phone)) == texts
    assert follow_up(live, DAY7_CHECKIN + day) == {"silent": 1}  # no second gentle text
    assert len(twilio.sent_to(ANA.phone)) == texts
    assert follow_up(live, DAY7_CHECKIN + 2 * day) == {"task": 1}
    assert len(tasks(engine)) == 2  # one task for the whole silence
    assert "Still no answer: the pain (0-10) and warning signs (YES/NO) check-in asked" in (
        tasks(engine)[1].notes
    )
