"""A caregiver: checked at intake like the patient, and planned its own safety messages; pure.

A caregiver gets the plan's `[[caregiver_steps]]` (the first-day safety text and the
red-flag guidance), never check-ins, in its own language, at the patient's local times
(quiet hours in the patient's zone), within the SMS cap of its own phone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from reminders.domain.enrollment.commands import AddCaregiver
from reminders.domain.enrollment.contact import normalize_email, normalize_phone
from reminders.domain.enrollment.fields import EMAIL_MAX, NAME_MAX, PHONE_TYPED_MAX, text_field
from reminders.domain.errors import ReminderError
from reminders.domain.model import (
    Caregiver,
    Consent,
    ConsentMethod,
    Patient,
    PlannedMessage,
    ProcedureRecord,
)
from reminders.domain.planning.careplan import CarePlan
from reminders.domain.planning.schedule import SchedulePolicy, SendHistory, expand_care_plan

RELATIONSHIP_MAX = 40  # caregivers.relationship: "daughter", "husband", "neighbour"
KIND = "caregiver"  # scheduled_messages.kind of a caregiver's rows (domain/decisions.Kind)


def check_caregiver(
    cmd: AddCaregiver,
    *,
    patient_phone: str | None,
    patient_language: str,
    languages: Sequence[str],
    default_region: str = "US",
) -> tuple[Caregiver | None, dict[str, str]]:
    """The caregiver, or every problem with it (one message per `caregiver_*` field)."""
    errors: dict[str, str] = {}
    name = text_field(cmd.name, "caregiver_name", NAME_MAX, errors, required=True)
    relationship = text_field(cmd.relationship, "caregiver_relationship", RELATIONSHIP_MAX, errors)
    language = (
        text_field(cmd.language, "caregiver_language", 8, errors) or patient_language
    ).lower()
    if language and languages and language not in languages:
        errors["caregiver_language"] = (
            f"{language!r} is not offered for this procedure; choose one of " + ", ".join(languages)
        )
    phone: str | None = None
    typed = text_field(cmd.phone, "caregiver_phone", PHONE_TYPED_MAX, errors)
    if typed and any(ch.isalpha() for ch in typed):
        errors["caregiver_phone"] = (
            f"{typed!r} contains letters; type the caregiver's phone in digits, like (805) 555-0142"
        )
    elif typed:
        try:
            phone = normalize_phone(typed, default_region=default_region)
        except ReminderError as exc:
            errors["caregiver_phone"] = exc.message
    if phone and patient_phone and phone == patient_phone:
        errors["caregiver_phone"] = (
            "the caregiver's phone is the patient's own number; a caregiver needs a phone"
            " of their own (replies and STOP are read per phone)"
        )
    email: str | None = None
    if typed_email := text_field(cmd.email, "caregiver_email", EMAIL_MAX, errors):
        try:
            email = normalize_email(typed_email)
        except ReminderError as exc:
            errors["caregiver_email"] = exc.message
    if cmd.sms_consent and not typed:
        errors.setdefault("caregiver_phone", "SMS consent was given but there is no phone number")
    if cmd.email_consent and not typed_email:
        errors.setdefault(
            "caregiver_email", "email consent was given but there is no email address"
        )
    if typed and not cmd.sms_consent:
        errors["caregiver_consent"] = (
            "record the caregiver's consent to SMS for this phone, or leave the phone out"
        )
    elif typed_email and not cmd.email_consent:
        errors["caregiver_consent"] = (
            "record the caregiver's consent to email for this address, or leave it out"
        )
    elif not typed and not typed_email and "caregiver_name" not in errors:
        errors["caregiver_consent"] = "give the caregiver's phone or email (or both)"
    if errors:
        return None, errors
    return (
        Caregiver(
            name=name,
            phone=phone,
            email=email,
            language=language,
            relationship=relationship,
            sms_consent=bool(cmd.sms_consent and phone),
            email_consent=bool(cmd.email_consent and email),
        ),
        {},
    )


def caregiver_plan(plan: CarePlan) -> CarePlan:
    """The plan as a caregiver receives it: only its caregiver steps."""
    return replace(plan, steps=plan.caregiver_steps)


def as_recipient(caregiver: Caregiver, *, timezone: str) -> Patient:
    """The caregiver as the planner and the sender see a recipient: the patient's zone."""
    return Patient(
        first_name=caregiver.name,
        last_name="",
        phone=caregiver.phone,
        email=caregiver.email,
        language=caregiver.language,
        timezone=timezone,
    )


def caregiver_consents(caregiver: Caregiver, *, at: datetime) -> list[Consent]:
    return [
        Consent(channel, True, ConsentMethod.VERBAL, "caregiver", at)
        for channel in sorted(caregiver.channels)
    ]


def expand_caregiver_plan(
    plan: CarePlan,
    procedure: ProcedureRecord,
    caregiver: Caregiver,
    *,
    timezone: str,
    now: datetime,
    policy: SchedulePolicy | None = None,
    history: SendHistory | None = None,
) -> list[PlannedMessage]:
    """The caregiver's dated messages (kind `caregiver`), planned like a patient's: quiet
    hours in the patient's zone, the SMS cap of the caregiver's own phone, its first text
    says how to opt out. A plan without caregiver steps sends a caregiver nothing."""
    if not plan.caregiver_steps or not caregiver.channels:
        return []
    planned = expand_care_plan(
        caregiver_plan(plan),
        procedure,
        as_recipient(caregiver, timezone=timezone),
        caregiver_consents(caregiver, at=now),
        now=now,
        policy=policy or SchedulePolicy(),
        history=history or SendHistory(),
    )
    return [replace(m, kind=KIND, checkin=None) for m in planned]


__all__ = [
    "KIND",
    "RELATIONSHIP_MAX",
    "as_recipient",
    "caregiver_plan",
    "check_caregiver",
    "expand_caregiver_plan",
]
