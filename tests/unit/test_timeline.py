"""How the patient page words a message: its title, why it failed (once), the header."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from reminders.domain.model import Channel, MessageStatus, ScheduledMessage
from reminders.domain.planning.careplan import readable_key
from reminders.services.staff.timeline import problem_text, standing

AT = datetime(2026, 3, 8, 17, 0, tzinfo=UTC)
TEXT = ScheduledMessage(
    step_key="first_text_same_day",
    parts=("first_text_same_day",),
    channel=Channel.SMS,
    category="warning_signs",
    send_at=AT,
    deadline=AT + timedelta(hours=4),
    status=MessageStatus.UNDELIVERED,
    id=7,
)


def test_a_known_twilio_code_is_said_once_in_words():
    m = replace(
        TEXT,
        status_reason="Twilio reported undelivered (error 30003)",
        error_code="30003",
        error_message="Twilio reported undelivered (error 30003)",
    )
    said = problem_text(m)
    assert said == "the phone was unreachable (switched off or no signal) (error 30003)"


def test_an_unknown_code_keeps_the_providers_words_without_repeating_them():
    m = replace(
        TEXT,
        status_reason="undelivered",
        error_code="30999",
        error_message="Twilio reported undelivered",
    )
    assert problem_text(m) == "Twilio reported undelivered (error 30999)"
    skipped = replace(TEXT, status=MessageStatus.SKIPPED, status_reason="stale: too late")
    assert problem_text(skipped) == "stale: too late"
    assert problem_text(replace(TEXT, status=MessageStatus.SENT)) is None


def test_a_step_without_a_title_reads_as_words():
    assert readable_key("checkin_pain_day1") == "Checkin pain day 1"
    assert readable_key("bone_health_3months") == "Bone health 3months"


def test_the_header_never_says_active_after_stop():
    assert standing("active", opted_out=False, email_on=True) == ("active", "active")
    assert standing("active", opted_out=True, email_on=True)[0].startswith("email only")
    assert standing("active", opted_out=True, email_on=False)[0].startswith("no messages")
    assert standing("cancelled", opted_out=True, email_on=True) == ("cancelled", "cancelled")


def test_a_plan_step_title_is_read_or_made_from_the_key():
    import pytest

    from reminders.domain.errors import InvalidCarePlan
    from reminders.domain.planning.careplan import parse_care_plan

    def plan(**step):
        step = {"key": "checkin_pain_day1", "category": "checkin", "at": "day 1 at 13:00", **step}
        data = {"procedure": "x", "languages": ["en"], "title": {"en": "x"}, "steps": [step]}
        return parse_care_plan(data, source="test")

    assert plan(title="Check-in: pain score").steps[0].title == "Check-in: pain score"
    assert plan().steps[0].title == "Checkin pain day 1"
    with pytest.raises(InvalidCarePlan, match="title"):
        plan(title="  ")
