"""Enroll a patient after a procedure, or cancel the enrollment; one audited transaction each.

Every intake door (CLI, staff form, REST, CSV, FHIR) builds an EnrollPatient and calls
`enroll`; the request is checked once, by domain/enrollment/intake.py, and the audit entry commits
with the enrollment it records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.domain.enrollment import intake
from reminders.domain.enrollment import procedure_time as procedure_times
from reminders.domain.enrollment.caregiver import expand_caregiver_plan
from reminders.domain.enrollment.commands import EnrollPatient
from reminders.domain.errors import EnrollmentNotFound
from reminders.domain.lifecycles.enrollment import CANCEL
from reminders.domain.model import Enrollment
from reminders.domain.planning.careplan import CarePlan
from reminders.domain.planning.schedule import expand_care_plan
from reminders.domain.staff.limits import ACTOR_MAX, REASON_MAX, check_length
from reminders.services import audit
from reminders.services.enrollments.bundles import Planning
from reminders.services.enrollments.clinical_events import close_hospital_tasks


@dataclass(frozen=True)
class EnrollmentResult:
    enrollment: Enrollment
    created: bool  # False: this procedure was enrolled before and that enrollment came back


def enroll(
    cmd: EnrollPatient,
    *,
    uow: UnitOfWork,
    planning: Planning,
    now: datetime,
    via: str,
    unreadable: Mapping[str, str] | None = None,
    client_addr: str | None = None,
) -> EnrollmentResult:
    """Enroll once and audit it: patient, consent, every message and the entry, or nothing.

    A request with wrong fields raises InvalidEnrollment naming all of them (including the
    `unreadable` ones the door could not parse). Enrolling the same procedure again returns
    the first enrollment, changes nothing and says so in the audit log. A request's
    `client_addr` (the web doors) goes in that audit entry.
    """
    admitted = intake.admit(
        cmd,
        find_plan=planning.plans.get,
        now=now,
        skew=planning.skew,
        default_region=planning.default_region,
        unreadable=unreadable,
    )
    enrollment = admitted.enrollment
    planned = expand_care_plan(
        admitted.plan,
        enrollment.procedure,
        enrollment.patient,
        enrollment.consents,
        now=now,
        policy=planning.policy,
    )
    if enrollment.caregiver is not None:
        planned += expand_caregiver_plan(
            admitted.plan,
            enrollment.procedure,
            enrollment.caregiver,
            timezone=enrollment.patient.timezone,
            now=now,
            policy=planning.policy,
        )
    key, by = enrollment.idempotency_key, cmd.enrolled_by.strip()
    with uow:
        created = uow.enrollments.add(enrollment, enrolled_by=by, now=now)
        if created is not None:
            assert created.id is not None
            stored = uow.messages.add_many(created.id, 1, planned, now=now)
            # Ordered as a read gives them (get_enrollment): by time, then id.
            created.messages = sorted(stored, key=lambda m: (m.send_at, m.id or 0))
            _record(uow, created, by=by, via=via, now=now, repeated=False, addr=client_addr)
            uow.commit()
            return EnrollmentResult(created, created=True)
        # Enrolled before (a double submit, the same external id, or a request a moment
        # ago): the patient row just inserted is rolled back with the rest.
    with uow:
        found = uow.enrollments.id_for_key(key)
        if found is None:  # pragma: no cover - the unique key makes this unreachable
            raise RuntimeError("enrollment vanished after a conflicting insert")
        earlier = _load(uow, found)
        _record(uow, earlier, by=by, via=via, now=now, repeated=True, addr=client_addr)
        uow.commit()
        return EnrollmentResult(earlier, created=False)


def _record(
    uow: UnitOfWork,
    e: Enrollment,
    *,
    by: str,
    via: str,
    now: datetime,
    repeated: bool,
    addr: str | None,
) -> None:
    name = f"{e.patient.first_name} {e.patient.last_name}"
    caregiver = f", caregiver {e.caregiver.name}" if e.caregiver and not repeated else ""
    audit.record(
        uow,
        actor=by,
        action="enroll_repeated" if repeated else "enrolled",
        detail=f"{name}, {e.procedure.procedure}{caregiver}, via {via}"
        + (" (already enrolled; nothing changed)" if repeated else ""),
        now=now,
        enrollment_id=e.id,
        client_addr=addr,
    )


def _load(uow: UnitOfWork, enrollment_id: int) -> Enrollment:
    enrollment = uow.enrollments.get(enrollment_id)
    if enrollment is None:
        raise EnrollmentNotFound(f"no enrollment {enrollment_id}")
    return enrollment


def get_enrollment(enrollment_id: int, *, uow: UnitOfWork) -> Enrollment:
    """Return the enrollment with its patient, consent and messages."""
    with uow:
        return _load(uow, enrollment_id)


def cancel(
    enrollment_id: int, *, uow: UnitOfWork, by: str, reason: str, now: datetime
) -> Enrollment:
    """Cancel every unsent message, close the enrollment and audit it, in one transaction."""
    check_length(by, field="by", limit=ACTOR_MAX, label="name of who acts")
    reason = check_length(reason.strip(), field="reason", limit=REASON_MAX) or "no reason given"
    with uow:
        enrollment = uow.enrollments.get(enrollment_id, for_update=True)
        if enrollment is None:
            raise EnrollmentNotFound(f"no enrollment {enrollment_id}")
        if not uow.enrollments.move(enrollment_id, CANCEL, now=now):
            # A repeat (or a completed one): nothing changes; say what happened, not a cancel.
            audit.record(
                uow,
                actor=by,
                action="unchanged",
                detail=f"cancel asked again; the enrollment was {enrollment.status} already",
                now=now,
                enrollment_id=enrollment_id,
            )
            uow.commit()
            return get_enrollment(enrollment_id, uow=uow)
        count = uow.messages.cancel_unsent(
            enrollment_id, reason=f"enrollment cancelled by {by}: {reason}", now=now
        )
        close_hospital_tasks(uow, enrollment_id, by=by, now=now)
        audit.record(
            uow,
            actor=by,
            action="cancelled",
            detail=f"{reason}; {count} unsent message(s) cancelled",
            now=now,
            enrollment_id=enrollment_id,
        )
        uow.commit()
    return get_enrollment(enrollment_id, uow=uow)


def procedure_time(
    performed_at: datetime, *, zone: ZoneInfo, plan: CarePlan, now: datetime, skew: timedelta
) -> datetime:
    """Return the procedure time in UTC (naive means the patient's local time) if plausible."""
    return procedure_times.procedure_time(performed_at, zone=zone, plan=plan, now=now, skew=skew)
