"""Caregivers (domain/enrollment/caregiver.py): checked like the patient, planned its own safety messages."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reminders.adapters.care_plans import CarePlanLibrary
from reminders.domain.enrollment import intake
from reminders.domain.enrollment.caregiver import check_caregiver, expand_caregiver_plan
from reminders.domain.enrollment.commands import AddCaregiver, EnrollPatient, GiveConsent
from reminders.domain.errors import InvalidCarePlan, InvalidEnrollment
from reminders.domain.model import Caregiver, Channel, MessageStatus, ProcedureRecord
from reminders.domain.planning.careplan import parse_care_plan
from reminders.domain.planning.timing import zone_named

ROOT = Path(__file__).resolve().parents[2]
PLANS = CarePlanLibrary(ROOT / "config" / "care_plans")
KYPHO = PLANS.get("kyphoplasty")
LA = zone_named("America/Los_Angeles")
NOW = datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # 23:30 on March 7 in Los Angeles
ROSA = AddCaregiver(
    name="Rosa",
    relationship="daughter",
    phone="(805) 555-0199",
    email="rosa@example.org",
    sms_consent=True,
    email_consent=True,
)
ANA = EnrollPatient(
    first_name="Ana",
    last_name="Lopez",
    procedure="kyphoplasty",
    performed_at=datetime(2026, 3, 7, 22, 0),
    timezone="America/Los_Angeles",
    phone="(805) 555-0142",
    consents=(GiveConsent(Channel.SMS),),
    enrolled_by="nurse.kim",
    caregiver=ROSA,
)


def check(cmd: AddCaregiver, **kw):
    args = {"patient_phone": "+18055550142", "patient_language": "es", "languages": ("en", "es")}
    return check_caregiver(cmd, **{**args, **kw})


def test_a_caregiver_is_normalized_and_takes_the_patients_language_by_default():
    cg, errors = check(ROSA)
    assert errors == {}
    assert cg == Caregiver(
        name="Rosa",
        relationship="daughter",
        phone="+18055550199",
        email="rosa@example.org",
        language="es",
        sms_consent=True,
        email_consent=True,
    )
    assert cg.channels == {Channel.SMS, Channel.EMAIL}


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"name": ""}, "caregiver_name", "needed"),
        ({"phone": "805-CALL-NOW"}, "caregiver_phone", "letters"),
        ({"phone": "555"}, "caregiver_phone", "not a valid phone"),
        ({"phone": "+1 805 555 0142"}, "caregiver_phone", "patient's own number"),
        ({"email": "rosa@"}, "caregiver_email", "not an email"),
        ({"sms_consent": False}, "caregiver_consent", "consent to SMS"),
        ({"email_consent": False}, "caregiver_consent", "consent to email"),
        ({"phone": None, "email": None}, "caregiver_phone", "no phone"),
        ({"language": "fr"}, "caregiver_language", "not offered"),
        ({"relationship": "x" * 41}, "caregiver_relationship", "at most 40"),
    ],
)
def test_each_wrong_caregiver_field_is_named(change, field, words):
    cg, errors = check(replace(ROSA, **change))
    assert cg is None
    assert words in errors[field], errors


def test_a_caregiver_with_neither_phone_nor_email_is_asked_for_one():
    _, errors = check(AddCaregiver(name="Rosa"))
    assert "phone or email" in errors["caregiver_consent"]


def test_intake_reports_caregiver_and_patient_fields_together():
    bad = replace(ANA, first_name="", caregiver=replace(ROSA, phone="805 555 0142"))
    with pytest.raises(InvalidEnrollment) as exc:
        intake.admit(bad, find_plan=PLANS.get, now=NOW)
    assert {"first_name", "caregiver_phone"} <= set(exc.value.errors)


def test_intake_carries_the_caregiver_into_the_enrollment():
    admitted = intake.admit(ANA, find_plan=PLANS.get, now=NOW)
    assert admitted.enrollment.caregiver is not None
    assert admitted.enrollment.caregiver.phone == "+18055550199"


def caregiver(channels=(Channel.SMS, Channel.EMAIL), language="en") -> Caregiver:
    return Caregiver(
        name="Rosa",
        phone="+18055550199" if Channel.SMS in channels else None,
        email="rosa@example.org" if Channel.EMAIL in channels else None,
        language=language,
        sms_consent=Channel.SMS in channels,
        email_consent=Channel.EMAIL in channels,
    )


def plan_for(cg: Caregiver, *, at: datetime, overnight: bool = False):
    procedure = ProcedureRecord("kyphoplasty", at, overnight=overnight)
    return expand_caregiver_plan(KYPHO, procedure, cg, timezone=LA.key, now=at)


def test_a_caregiver_gets_the_first_day_text_and_the_warning_signs_never_a_checkin():
    at = datetime(2026, 9, 30, 10, 0, tzinfo=LA)
    planned = plan_for(caregiver(), at=at)
    assert {(m.step_key, m.channel) for m in planned} == {
        ("caregiver_first_day", Channel.SMS),
        ("caregiver_first_day", Channel.EMAIL),
        ("caregiver_red_flags", Channel.SMS),
        ("caregiver_red_flags", Channel.EMAIL),
    }
    assert all(m.kind == "caregiver" and m.checkin is None for m in planned)
    sms = [m for m in planned if m.channel is Channel.SMS]
    # +1 h (at discharge, issue 21), then the warning signs at +26 h
    assert [m.send_at.astimezone(LA).hour for m in sms] == [11, 12]
    assert [m.first_sms for m in sms] == [True, False]  # its first text says how to opt out


def test_quiet_hours_are_the_patients_and_a_late_text_waits_for_morning():
    at = datetime(2026, 9, 30, 23, 30, tzinfo=LA)
    planned = plan_for(caregiver((Channel.SMS,)), at=at)
    first = next(m for m in planned if m.parts[0] == "caregiver_first_day")
    assert first.status is MessageStatus.SCHEDULED
    assert first.send_at.astimezone(LA) == datetime(2026, 10, 1, 8, 0, tzinfo=LA)
    # the warning signs come 24 hours after the first text: the next morning, not merged
    # into one text of 4 segments (the caregiver's own phone has a cap of one a day)
    second = next(m for m in planned if m.parts[0] == "caregiver_red_flags")
    assert first.parts == ("caregiver_first_day",)
    assert second.send_at.astimezone(LA) == datetime(2026, 10, 2, 8, 0, tzinfo=LA)


def test_a_caregiver_without_consent_or_a_plan_without_caregiver_steps_gets_nothing():
    at = datetime(2026, 9, 30, 10, 0, tzinfo=LA)
    assert plan_for(replace(caregiver(), sms_consent=False, email_consent=False), at=at) == []
    no_steps = replace(KYPHO, caregiver_steps=())
    procedure = ProcedureRecord("kyphoplasty", at)
    assert expand_caregiver_plan(no_steps, procedure, caregiver(), timezone=LA.key, now=at) == []


BASE = {
    "procedure": "kyphoplasty",
    "languages": ["en"],
    "title": {"en": "Kyphoplasty"},
    "steps": [{"key": "rest", "category": "rest", "at": "+2h"}],
}


@pytest.mark.parametrize(
    ("step", "words"),
    [
        ({"key": "first_day"}, 'must start with "caregiver_"'),
        ({"key": "caregiver_q", "checkin": "pain"}, "never asked check-in"),
        ({"key": "caregiver_x", "facts": ["nope"]}, "facts not declared"),
        ({"key": "caregiver_x", "only_if": "sms_only"}, "text-only track"),
    ],
)
def test_plan_files_refuse_caregiver_steps_that_break_the_rules(step, words):
    raw = {"category": "warning_signs", "at": "+2h", **step}
    with pytest.raises(InvalidCarePlan, match=words):
        parse_care_plan({**BASE, "caregiver_steps": [raw]}, source="test")


def test_a_caregiver_added_late_still_gets_the_safety_text_first_and_never_at_night():
    at = datetime(2026, 9, 30, 17, 0, tzinfo=LA)
    procedure = ProcedureRecord("kyphoplasty", at)
    # Added 30 h 30 min after: 23:30 local, the first-day text long stale.
    late = at + timedelta(hours=30, minutes=30)
    planned = expand_caregiver_plan(KYPHO, procedure, caregiver(), timezone=LA.key, now=late)
    sms = [m for m in planned if m.channel is Channel.SMS]
    assert [m.parts for m in sms] == [("caregiver_first_day",), ("caregiver_red_flags",)]
    assert all(m.status is MessageStatus.SCHEDULED and m.kind == "caregiver" for m in sms)
    assert [m.send_at.astimezone(LA) for m in sms] == [
        datetime(2026, 10, 2, 8, 0, tzinfo=LA),  # 08:00, not at 23:30 or 3 a.m.
        datetime(2026, 10, 3, 8, 0, tzinfo=LA),  # its own phone's cap: 1 a day
    ]
    assert sms[0].first_sms and not sms[1].first_sms
    email = next(
        m for m in planned if m.channel is Channel.EMAIL and m.parts == ("caregiver_first_day",)
    )
    assert email.status is MessageStatus.SCHEDULED
    assert email.send_at.astimezone(LA) == datetime(2026, 10, 2, 8, 0, tzinfo=LA)
