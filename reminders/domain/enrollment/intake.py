"""Intake rules: check every field of an EnrollPatient at once, then turn it into an Enrollment.

Every door (CLI, staff form, REST, CSV, FHIR) builds an EnrollPatient and the enrollment
use case calls `admit`, so a request is judged the same way wherever it came from. The
length limits are in fields.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from reminders.domain.enrollment.caregiver import check_caregiver
from reminders.domain.enrollment.commands import EnrollPatient
from reminders.domain.enrollment.contact import normalize_email, normalize_phone
from reminders.domain.enrollment.fields import (
    ACTOR_MAX,
    EMAIL_MAX,
    EXTERNAL_ID_MAX,
    EXTERNAL_KEY_PREFIX,
    LANGUAGE_MAX,
    MAX_LEVELS,
    NAME_MAX,
    PHONE_TYPED_MAX,
    PROCEDURE_MAX,
    TIMEZONE_MAX,
    text_field,
)
from reminders.domain.enrollment.procedure_time import (
    local_moment,
    not_in_future,
    procedure_time,
)
from reminders.domain.errors import InvalidEnrollment, ReminderError
from reminders.domain.model import Channel, Consent, Enrollment, Patient, ProcedureRecord
from reminders.domain.planning.careplan import CarePlan
from reminders.domain.planning.schedule import allowed_channels
from reminders.domain.planning.timing import patient_zone

FindPlan = Callable[[str], CarePlan]  # raises UnknownProcedure for a name it does not know


@dataclass(frozen=True)
class Admitted:
    enrollment: Enrollment  # not stored yet, no messages
    plan: CarePlan


def check_enrollment(
    cmd: EnrollPatient,
    *,
    find_plan: FindPlan,
    now: datetime,
    skew: timedelta = timedelta(minutes=10),
    default_region: str = "US",
) -> dict[str, str]:
    """Return every problem with the request, one message per field; empty when it is fine."""
    return _read(cmd, find_plan=find_plan, now=now, skew=skew, default_region=default_region)[1]


def admit(
    cmd: EnrollPatient,
    *,
    find_plan: FindPlan,
    now: datetime,
    skew: timedelta = timedelta(minutes=10),
    default_region: str = "US",
    unreadable: Mapping[str, str] | None = None,
) -> Admitted:
    """Turn a request into an Enrollment (no messages yet) or raise InvalidEnrollment.

    `unreadable` are fields the door could not even parse (a date that is not a date,
    levels that are not a number); they are reported together with the rest, and win
    over what the rules say about the stand-in the door put in their place.
    """
    admitted, errors = _read(
        cmd, find_plan=find_plan, now=now, skew=skew, default_region=default_region
    )
    errors = {**errors, **(unreadable or {})}
    if errors or admitted is None:
        raise InvalidEnrollment(errors)
    return admitted


def _read(
    cmd: EnrollPatient,
    *,
    find_plan: FindPlan,
    now: datetime,
    skew: timedelta,
    default_region: str,
) -> tuple[Admitted | None, dict[str, str]]:
    errors: dict[str, str] = {}

    def attempt(field: str, fn: Callable[[], object]) -> object | None:
        try:
            return fn()
        except ReminderError as exc:
            errors.setdefault(field, exc.message)
            return None

    first = text_field(cmd.first_name, "first_name", NAME_MAX, errors, required=True)
    last = text_field(cmd.last_name, "last_name", NAME_MAX, errors, required=True)
    enrolled_by = text_field(cmd.enrolled_by, "enrolled_by", ACTOR_MAX, errors, required=True)
    external_id = text_field(cmd.external_id, "external_id", EXTERNAL_ID_MAX, errors)

    plan: CarePlan | None = None
    if name := text_field(cmd.procedure, "procedure", PROCEDURE_MAX, errors, required=True):
        found = attempt("procedure", lambda: find_plan(name))
        plan = found if isinstance(found, CarePlan) else None

    zone: ZoneInfo | None = None
    if tz := text_field(cmd.timezone, "timezone", TIMEZONE_MAX, errors, required=True):
        found_zone = attempt("timezone", lambda: patient_zone(tz))
        zone = found_zone if isinstance(found_zone, ZoneInfo) else None

    language = (text_field(cmd.language, "language", LANGUAGE_MAX, errors, required=True)).lower()
    if plan is not None and language and language not in plan.languages:
        errors["language"] = (
            f"{language!r} is not offered for {plan.procedure}; choose one of "
            + ", ".join(plan.languages)
        )

    phone = _phone(cmd.phone, errors, default_region=default_region)
    email: str | None = None
    if typed := text_field(cmd.email, "email", EMAIL_MAX, errors):
        email = str(attempt("email", lambda: normalize_email(typed)) or "") or None

    if isinstance(cmd.levels, bool) or not isinstance(cmd.levels, int):
        errors["levels"] = f"levels treated must be a whole number from 1 to {MAX_LEVELS}"
    elif not 1 <= cmd.levels <= MAX_LEVELS:
        errors["levels"] = f"levels treated must be 1 to {MAX_LEVELS}"

    channels = {c.channel for c in cmd.consents}
    if not channels:
        errors["consent"] = (
            "record the patient's consent to SMS or email (or both); without it we send nothing"
        )
    if Channel.SMS in channels and not (cmd.phone or "").strip():
        errors.setdefault("phone", "SMS consent was given but there is no phone number")
    if Channel.EMAIL in channels and not (cmd.email or "").strip():
        errors.setdefault("email", "email consent was given but there is no email address")

    performed_at: datetime | None = None
    if not isinstance(cmd.performed_at, datetime):
        errors["performed_at"] = "enter the date and time the procedure ended"
    elif zone is not None:
        when = attempt("performed_at", lambda: local_moment(cmd.performed_at, zone))
        if isinstance(when, datetime) and plan is not None:
            performed_at = attempt(  # type: ignore[assignment]
                "performed_at",
                lambda: procedure_time(when, zone=zone, plan=plan, now=now, skew=skew),
            )
        elif isinstance(when, datetime):  # no plan: the future is still worth saying
            attempt("performed_at", lambda: not_in_future(when, now=now, skew=skew))
    elif cmd.performed_at.tzinfo is not None:  # an offset needs no zone to be placed
        aware = cmd.performed_at
        attempt("performed_at", lambda: not_in_future(aware, now=now, skew=skew))

    caregiver = None
    if cmd.caregiver is not None:
        caregiver, problems = check_caregiver(
            cmd.caregiver,
            patient_phone=phone,
            patient_language=language,
            languages=plan.languages if plan is not None else (),
            default_region=default_region,
        )
        errors.update(problems)
    if errors or plan is None or zone is None or performed_at is None:
        return None, errors
    patient = Patient(
        first_name=first,
        last_name=last,
        phone=phone,
        email=email,
        language=language,
        timezone=zone.key,
    )
    consents = [
        Consent(
            channel=c.channel,
            given=True,
            method=c.method,
            recorded_by=enrolled_by,
            recorded_at=now,
            more_frequent_sms=c.more_frequent_sms,
        )
        for c in {c.channel: c for c in cmd.consents}.values()
    ]
    if not allowed_channels(patient, consents):  # pragma: no cover - the checks above cover it
        return None, {"consent": "record the patient's consent to SMS or email (or both)"}
    procedure = ProcedureRecord(
        procedure=plan.procedure,
        performed_at=performed_at,
        levels=cmd.levels,
        overnight=bool(cmd.overnight),
        external_id=external_id or None,
    )
    enrollment = Enrollment(
        patient=patient,
        procedure=procedure,
        consents=consents,
        idempotency_key=idempotency_key(patient, procedure),
        caregiver=caregiver,
    )
    return Admitted(enrollment, plan), errors


def _phone(value: str | None, errors: dict[str, str], *, default_region: str) -> str | None:
    typed = text_field(value, "phone", PHONE_TYPED_MAX, errors)
    if not typed:
        return None
    if any(ch.isalpha() for ch in typed):
        # phonenumbers reads letters as keypad digits (805-CALL-NOW); a typo in a name
        # field pasted here would become some stranger's number, so we refuse instead.
        errors["phone"] = (
            f"{typed!r} contains letters; type the phone number in digits, like (805) 555-0142"
        )
        return None
    try:
        return normalize_phone(typed, default_region=default_region)
    except ReminderError as exc:
        errors["phone"] = exc.message
        return None


def idempotency_key(patient: Patient, procedure: ProcedureRecord) -> str:
    """The EHR's id when there is one; otherwise a digest of who, what and when.

    The digest makes a double-clicked form or a re-run CSV return the first enrollment.
    """
    if procedure.external_id:
        return EXTERNAL_KEY_PREFIX + procedure.external_id
    raw = "|".join(
        [
            procedure.procedure,
            procedure.performed_at.astimezone(UTC).isoformat(),
            patient.phone or "",
            (patient.email or "").lower(),
            patient.first_name.lower(),
            patient.last_name.lower(),
        ]
    )
    return "auto:" + hashlib.sha256(raw.encode()).hexdigest()[:40]
