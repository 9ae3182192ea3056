"""Commands: plain, frozen requests with the defaults a clinic expects, read by the intake."""

from dataclasses import FrozenInstanceError
from datetime import UTC, datetime

import pytest

from reminders.domain.enrollment import intake
from reminders.domain.enrollment.commands import EnrollPatient, GiveConsent
from reminders.domain.model import Channel, ConsentMethod
from reminders.domain.planning.careplan import parse_care_plan

PLAN = parse_care_plan(
    {
        "procedure": "kyphoplasty",
        "languages": ["en"],
        "title": {"en": "Kyphoplasty"},
        "steps": [{"key": "rest", "category": "rest", "at": "+2h"}],
    },
    source="test",
)
NOW = datetime(2026, 5, 4, 17, 0, tzinfo=UTC)


def command(**change):
    fields = {
        "first_name": "Ana",
        "last_name": "Lopez",
        "procedure": "kyphoplasty",
        "performed_at": datetime(2026, 5, 4, 7, 0),
        "timezone": "America/Los_Angeles",
        "phone": "(805) 555-0142",
        "consents": (GiveConsent(Channel.SMS),),
        **change,
    }
    return EnrollPatient(**fields)


def test_the_defaults_are_one_level_same_day_english_verbal_consent_by_the_system():
    cmd = command()
    assert (cmd.language, cmd.levels, cmd.overnight) == ("en", 1, False)
    assert (cmd.email, cmd.external_id, cmd.enrolled_by) == (None, None, "system")
    consent = GiveConsent(Channel.EMAIL)
    assert consent.method is ConsentMethod.VERBAL
    assert consent.more_frequent_sms is False


def test_commands_cannot_be_changed_after_they_are_made():
    with pytest.raises(FrozenInstanceError):
        command().phone = "+18055550199"  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        GiveConsent(Channel.SMS).method = ConsentMethod.WRITTEN  # type: ignore[misc]


def test_a_naive_time_in_the_command_is_the_patients_local_time():
    admitted = intake.admit(command(), find_plan=lambda _: PLAN, now=NOW)
    # 07:00 in Los Angeles in May is 14:00 UTC.
    assert admitted.enrollment.procedure.performed_at == datetime(2026, 5, 4, 14, 0, tzinfo=UTC)


def test_consent_given_twice_for_a_channel_is_recorded_once_the_last_way_given():
    cmd = command(
        consents=(
            GiveConsent(Channel.SMS),
            GiveConsent(Channel.SMS, ConsentMethod.WRITTEN, more_frequent_sms=True),
        ),
        enrolled_by="nurse.kim",
    )
    consents = intake.admit(cmd, find_plan=lambda _: PLAN, now=NOW).enrollment.consents
    assert len(consents) == 1
    (only,) = consents
    assert (only.method, only.more_frequent_sms, only.recorded_by) == (
        ConsentMethod.WRITTEN,
        True,
        "nurse.kim",
    )
    assert only.lifts_sms_cap
