"""The intake rules (domain/enrollment/intake.py): every field checked at once, no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from reminders.domain.enrollment import fields, intake
from reminders.domain.enrollment.commands import EnrollPatient, GiveConsent
from reminders.domain.errors import InvalidEnrollment, UnknownProcedure
from reminders.domain.model import Channel
from reminders.domain.planning.careplan import parse_care_plan

PLAN = parse_care_plan(
    {
        "procedure": "kyphoplasty",
        "languages": ["en", "es"],
        "title": {"en": "Kyphoplasty", "es": "Cifoplastia"},
        "duration": "42d",
        "steps": [{"key": "rest", "category": "rest", "at": "+2h"}],
    },
    source="test",
)
NOW = datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # 23:30 on March 7 in Los Angeles
ANA = EnrollPatient(
    first_name="Ana",
    last_name="Lopez",
    procedure="kyphoplasty",
    performed_at=datetime(2026, 3, 7, 22, 0),
    timezone="America/Los_Angeles",
    phone="(805) 555-0142",
    email="ana@example.org",
    consents=(GiveConsent(Channel.SMS), GiveConsent(Channel.EMAIL)),
    enrolled_by="nurse.kim",
)


def find_plan(name: str):
    if name.strip().lower() != "kyphoplasty":
        raise UnknownProcedure(f"no care plan for {name!r}; known procedures: kyphoplasty")
    return PLAN


def check(cmd: EnrollPatient, now: datetime = NOW) -> dict[str, str]:
    return intake.check_enrollment(cmd, find_plan=find_plan, now=now)


def test_a_good_request_becomes_an_enrollment():
    admitted = intake.admit(ANA, find_plan=find_plan, now=NOW)
    e = admitted.enrollment
    assert (e.patient.phone, e.patient.email) == ("+18055550142", "ana@example.org")
    assert e.procedure.performed_at == datetime(2026, 3, 8, 6, 0, tzinfo=UTC)
    assert {c.recorded_by for c in e.consents} == {"nurse.kim"}
    assert e.idempotency_key.startswith("auto:")
    assert check(ANA) == {}


def test_every_wrong_field_is_reported_at_once():
    bad = replace(
        ANA,
        first_name="A" * 10_000,
        last_name=" ",
        phone="805-CALL-NOW",
        email="ana@",
        timezone="Mars/Base",
        language="x" * 9,
        levels=11,
        external_id="E" * 250,
        enrolled_by="",
    )
    errors = check(bad)
    assert set(errors) == {
        "first_name",
        "last_name",
        "phone",
        "email",
        "timezone",
        "language",
        "levels",
        "external_id",
        "enrolled_by",
    }
    assert errors["first_name"] == "the first name is 10000 characters long; at most 100 fit"
    assert "A" * 50 not in " ".join(errors.values()), "a long value is never echoed back"
    with pytest.raises(InvalidEnrollment) as refused:
        intake.admit(bad, find_plan=find_plan, now=NOW)
    assert refused.value.errors == errors
    assert refused.value.field is None and "first_name: the first name" in refused.value.message


def test_the_limits_are_the_stored_sizes():
    ok = replace(ANA, first_name="A" * 100, external_id="E" * fields.EXTERNAL_ID_MAX)
    admitted = intake.admit(ok, find_plan=find_plan, now=NOW)
    assert len(admitted.enrollment.idempotency_key) == fields.KEY_MAX
    assert "external_id" in check(replace(ok, external_id="E" * (fields.EXTERNAL_ID_MAX + 1)))
    assert "first_name" in check(replace(ok, first_name="A" * 101))


@pytest.mark.parametrize("phone", ["805-CALL-NOW", "1-800-FLOWERS", "805 555 0142 ext 7"])
def test_letters_in_a_phone_are_refused_not_turned_into_digits(phone):
    assert "contains letters" in check(replace(ANA, phone=phone))["phone"]


@pytest.mark.parametrize(
    ("change", "field", "text"),
    [
        ({"first_name": "Ana\x00"}, "first_name", "control characters"),
        ({"procedure": "appendectomy"}, "procedure", "known procedures"),
        ({"procedure": "p" * 65}, "procedure", "at most 64"),
        ({"timezone": "Pacific/Nowhere"}, "timezone", "not a time zone"),
        ({"timezone": "Los_Angeles"}, "timezone", "did you mean America/Los_Angeles"),
        ({"timezone": "z" * 10_000}, "timezone", "at most 64"),
        ({"language": "fr"}, "language", "en, es"),
        ({"levels": 0}, "levels", "1 to 10"),
        ({"consents": ()}, "consent", "without it we send nothing"),
        ({"phone": None}, "phone", "no phone number"),
        ({"email": " "}, "email", "no email address"),
        ({"phone": "555"}, "phone", "not a valid phone number"),
        ({"performed_at": datetime(2026, 3, 9, 12, 0)}, "performed_at", "future"),
        ({"performed_at": datetime(2025, 6, 1, 12, 0)}, "performed_at", "days ago"),
        ({"performed_at": datetime(1, 1, 1)}, "performed_at", "days ago"),
    ],
)
def test_one_wrong_field(change, field, text):
    errors = check(replace(ANA, **change))
    assert list(errors) == [field] and text in errors[field], errors


def test_a_time_skipped_by_the_spring_clock_change_is_refused():
    now = datetime(2026, 3, 8, 18, 0, tzinfo=UTC)
    errors = check(replace(ANA, performed_at=datetime(2026, 3, 8, 2, 30)), now=now)
    assert errors == {
        "performed_at": "2026-03-08 02:30 did not happen in America/Los_Angeles: the clocks"
        " went from 02:00 straight to 03:00 that night (daylight saving time); check the"
        " time, or give it with its UTC offset"
    }
    # the minutes either side of the gap are real
    assert check(replace(ANA, performed_at=datetime(2026, 3, 8, 1, 59)), now=now) == {}
    assert check(replace(ANA, performed_at=datetime(2026, 3, 8, 3, 0)), now=now) == {}
    with_offset = datetime(2026, 3, 8, 2, 30, tzinfo=UTC)  # an aware time is never in a gap
    assert check(replace(ANA, performed_at=with_offset), now=now) == {}


def test_a_time_repeated_by_the_autumn_clock_change_is_its_first_occurrence():
    now = datetime(2026, 11, 1, 18, 0, tzinfo=UTC)
    cmd = replace(ANA, performed_at=datetime(2026, 11, 1, 1, 30))
    admitted = intake.admit(cmd, find_plan=find_plan, now=now)
    # 01:30 PDT (UTC-7), not 01:30 PST (UTC-8) an hour later
    assert admitted.enrollment.procedure.performed_at == datetime(2026, 11, 1, 8, 30, tzinfo=UTC)
    second = replace(cmd, performed_at=datetime(2026, 11, 1, 9, 30, tzinfo=UTC))
    later = intake.admit(second, find_plan=find_plan, now=now).enrollment.procedure
    assert later.performed_at - admitted.enrollment.procedure.performed_at == timedelta(hours=1)


def test_the_external_id_makes_the_key():
    e = intake.admit(replace(ANA, external_id=" EHR-1 "), find_plan=find_plan, now=NOW)
    assert e.enrollment.idempotency_key == "ext:EHR-1"
    assert e.enrollment.procedure.external_id == "EHR-1"


def test_unreadable_fields_are_reported_with_the_rest():
    with pytest.raises(InvalidEnrollment) as refused:
        intake.admit(
            replace(ANA, phone="805-CALL-NOW"),
            find_plan=find_plan,
            now=NOW,
            unreadable={"levels": "levels 'two' is not a whole number"},
        )
    assert set(refused.value.errors) == {"phone", "levels"}
    assert refused.value.lines() == [
        "phone: '805-CALL-NOW' contains letters; type the phone number in digits,"
        " like (805) 555-0142",
        "levels: levels 'two' is not a whole number",
    ]
