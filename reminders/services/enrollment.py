"""Enroll a patient after a procedure, or cancel the enrollment; one transaction each."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError

from reminders.adapters.care_plans import CarePlanLibrary
from reminders.adapters.unit_of_work import UnitOfWork
from reminders.domain.careplan import CarePlan
from reminders.domain.commands import EnrollPatient
from reminders.domain.contact import normalize_email, normalize_phone
from reminders.domain.errors import (
    EnrollmentNotFound,
    InvalidProcedureTime,
    NoConsent,
    ReminderError,
    UnsupportedLanguage,
)
from reminders.domain.model import Channel, Consent, Enrollment, Patient, ProcedureRecord
from reminders.domain.schedule import SchedulePolicy, allowed_channels, expand_care_plan
from reminders.domain.timing import zone_named

MAX_LEVELS = 10


@dataclass(frozen=True)
class EnrollmentResult:
    enrollment: Enrollment
    created: bool  # False: this procedure was enrolled before and that enrollment came back


def build_enrollment(
    cmd: EnrollPatient,
    *,
    plans: CarePlanLibrary,
    now: datetime,
    skew: timedelta = timedelta(minutes=10),
    default_region: str = "US",
) -> tuple[Enrollment, CarePlan]:
    """Validate a request into an Enrollment (no messages yet) or raise a ReminderError."""
    plan = plans.get(cmd.procedure)
    language = (cmd.language or "").strip().lower()
    if language not in plan.languages:
        raise UnsupportedLanguage(
            f"{cmd.language!r} is not offered for {plan.procedure}; choose one of "
            + ", ".join(plan.languages)
        )
    zone = zone_named(cmd.timezone.strip())
    first, last = cmd.first_name.strip(), cmd.last_name.strip()
    if not first:
        raise ReminderError("the patient's first name is needed", field="first_name")
    if not last:
        raise ReminderError("the patient's last name is needed", field="last_name")
    phone = normalize_phone(cmd.phone, default_region=default_region) if cmd.phone else None
    email = normalize_email(cmd.email) if cmd.email else None
    if not 1 <= cmd.levels <= MAX_LEVELS:
        raise ReminderError(f"levels treated must be 1 to {MAX_LEVELS}", field="levels")

    performed_at = procedure_time(cmd.performed_at, zone=zone, plan=plan, now=now, skew=skew)
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
            recorded_by=cmd.enrolled_by,
            recorded_at=now,
            more_frequent_sms=c.more_frequent_sms,
        )
        for c in {c.channel: c for c in cmd.consents}.values()
    ]
    _check_consent(patient, consents)
    procedure = ProcedureRecord(
        procedure=plan.procedure,
        performed_at=performed_at,
        levels=cmd.levels,
        overnight=cmd.overnight,
        external_id=(cmd.external_id or "").strip() or None,
    )
    enrollment = Enrollment(
        patient=patient,
        procedure=procedure,
        consents=consents,
        idempotency_key=idempotency_key(patient, procedure),
    )
    return enrollment, plan


def procedure_time(
    performed_at: datetime, *, zone: ZoneInfo, plan: CarePlan, now: datetime, skew: timedelta
) -> datetime:
    """Return the procedure time in UTC (naive means the patient's local time) if plausible."""
    when = performed_at if performed_at.tzinfo else performed_at.replace(tzinfo=zone)
    when = when.astimezone(UTC)
    if when > now + skew:
        raise InvalidProcedureTime(
            "the procedure time is in the future; enroll once the procedure is done"
        )
    if when < now - plan.duration:
        raise InvalidProcedureTime(
            f"the procedure was more than {plan.duration_days} days ago,"
            f" past the end of the {plan.procedure} plan"
        )
    return when


def _check_consent(patient: Patient, consents: list[Consent]) -> None:
    channels = {c.channel for c in consents}
    if Channel.SMS in channels and not patient.phone:
        raise NoConsent("SMS consent was given but there is no phone number", field="phone")
    if Channel.EMAIL in channels and not patient.email:
        raise NoConsent("email consent was given but there is no email address", field="email")
    if not allowed_channels(patient, consents):
        raise NoConsent(
            "record the patient's consent to SMS or email (or both); without it we send nothing"
        )


def idempotency_key(patient: Patient, procedure: ProcedureRecord) -> str:
    """The EHR's id when there is one; otherwise a digest of who, what and when.

    The digest makes a double-clicked form or a re-run CSV return the first enrollment.
    """
    if procedure.external_id:
        return f"ext:{procedure.external_id}"
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


def enroll_patient(
    cmd: EnrollPatient,
    *,
    uow: UnitOfWork,
    plans: CarePlanLibrary,
    policy: SchedulePolicy,
    now: datetime,
    skew: timedelta = timedelta(minutes=10),
    default_region: str = "US",
) -> EnrollmentResult:
    """Enroll once: patient, procedure, consent and every message, or nothing at all."""
    enrollment, plan = build_enrollment(
        cmd, plans=plans, now=now, skew=skew, default_region=default_region
    )
    planned = expand_care_plan(
        plan,
        enrollment.procedure,
        enrollment.patient,
        enrollment.consents,
        now=now,
        policy=policy,
    )
    with uow:
        existing = uow.enrollments.id_for_key(enrollment.idempotency_key)
        if existing is not None:
            return EnrollmentResult(_load(uow, existing), created=False)
        try:
            new_id = uow.enrollments.add(enrollment, enrolled_by=cmd.enrolled_by, now=now)
            uow.messages.add_many(new_id, 1, planned, now=now)
            uow.commit()
            return EnrollmentResult(_load(uow, new_id), created=True)
        except IntegrityError:
            pass  # another request enrolled the same procedure a moment ago
    return _existing(uow, enrollment.idempotency_key)


def _existing(uow: UnitOfWork, key: str) -> EnrollmentResult:
    with uow:
        found = uow.enrollments.id_for_key(key)
        if found is None:  # pragma: no cover - the unique key makes this unreachable
            raise RuntimeError("enrollment vanished after a conflicting insert")
        return EnrollmentResult(_load(uow, found), created=False)


def _load(uow: UnitOfWork, enrollment_id: int) -> Enrollment:
    enrollment = uow.enrollments.get(enrollment_id)
    if enrollment is None:
        raise EnrollmentNotFound(f"no enrollment {enrollment_id}")
    return enrollment


def get_enrollment(enrollment_id: int, *, uow: UnitOfWork) -> Enrollment:
    """Return the enrollment with its patient, consent and messages."""
    with uow:
        return _load(uow, enrollment_id)


def cancel_enrollment(
    enrollment_id: int, *, uow: UnitOfWork, by: str, reason: str, now: datetime
) -> int:
    """Cancel every unsent message and close the enrollment; return how many were cancelled."""
    with uow:
        enrollment = uow.enrollments.get(enrollment_id, for_update=True)
        if enrollment is None:
            raise EnrollmentNotFound(f"no enrollment {enrollment_id}")
        count = uow.messages.cancel_unsent(
            enrollment_id, reason=f"enrollment cancelled by {by}: {reason}", now=now
        )
        uow.enrollments.update(enrollment_id, now=now, status="cancelled")
        uow.commit()
        return count
