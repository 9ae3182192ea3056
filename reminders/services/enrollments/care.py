"""What staff, scripts and EHRs do to an enrollment, each recorded in the audit log.

Enroll and cancel live in services/enrollments/enrollment.py. Correcting the procedure
time, changing the channels or language and resending a failed message all re-plan the
unsent messages one way (replan): cancel them, expand the plan again with what was
already sent as history, and store the result as the enrollment's next revision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from reminders.adapters.care_plans import CarePlanLibrary
from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.domain.enrollment.caregiver import expand_caregiver_plan
from reminders.domain.enrollment.commands import GiveConsent
from reminders.domain.enrollment.contact import normalize_email, normalize_phone
from reminders.domain.errors import (
    EnrollmentClosed,
    EnrollmentNotFound,
    NoConsent,
    UnsupportedLanguage,
)
from reminders.domain.lifecycles.enrollment import RESTART
from reminders.domain.lifecycles.message import Reason
from reminders.domain.model import (
    Channel,
    Consent,
    Enrollment,
    Patient,
)
from reminders.domain.planning.careplan import CarePlan
from reminders.domain.planning.schedule import (
    SchedulePolicy,
    SendHistory,
    allowed_channels,
    expand_care_plan,
)
from reminders.domain.planning.timing import zone_named
from reminders.domain.staff.limits import ACTOR_MAX, CHOICE_MAX, check_length
from reminders.services import audit
from reminders.services.enrollments.bundles import Planning
from reminders.services.enrollments.clinical_events import close_hospital_tasks
from reminders.services.enrollments.enrollment import get_enrollment, procedure_time


def restart(
    enrollment_id: int,
    *,
    uow: UnitOfWork,
    planning: Planning,
    by: str,
    now: datetime,
) -> Enrollment:
    """Reopen a cancelled enrollment: plan again from now; nothing already past is sent."""
    check_length(by, field="by", limit=ACTOR_MAX, label="name of who acts")
    with uow:
        enrollment = uow.enrollments.get(enrollment_id, for_update=True)
        if enrollment is None:
            raise EnrollmentNotFound(f"no enrollment {enrollment_id}")
        if enrollment.status == "active":
            return enrollment
        plan = planning.plans.get(enrollment.procedure.procedure)
        uow.enrollments.move(enrollment_id, RESTART, now=now)
        close_hospital_tasks(uow, enrollment_id, by=by, now=now)
        replan(
            uow,
            enrollment,
            plan=plan,
            patient=enrollment.patient,
            consents=enrollment.consents,
            policy=planning.policy,
            now=now,
            reason=f"restarted by {by}",
        )
        audit.record(
            uow,
            actor=by,
            action="restarted",
            detail="messages restarted from now; past ones are not sent",
            now=now,
            enrollment_id=enrollment_id,
        )
        uow.commit()
    return get_enrollment(enrollment_id, uow=uow)


def update_enrollment(
    enrollment_id: int,
    *,
    uow: UnitOfWork,
    planning: Planning,
    by: str,
    now: datetime,
    performed_at: datetime | None = None,
    channels: Sequence[GiveConsent] | None = None,
    language: str | None = None,
) -> Enrollment:
    """Correct the procedure time, switch channels (recording consent for a new one) or
    language, all in one transaction; unsent messages are re-planned once."""
    check_length(by, field="by", limit=ACTOR_MAX, label="name of who acts")
    if language is not None:
        check_length(language.strip(), field="language", limit=CHOICE_MAX)
    with uow:
        enrollment, plan = open_enrollment(uow, enrollment_id, planning.plans)
        patient, consents, changes = enrollment.patient, list(enrollment.consents), []
        procedure = enrollment.procedure
        if performed_at is not None:
            zone = zone_named(patient.timezone)
            when = procedure_time(performed_at, zone=zone, plan=plan, now=now, skew=planning.skew)
            if when != procedure.performed_at:
                changes.append(
                    f"procedure time {procedure.performed_at.isoformat()} -> {when.isoformat()}"
                )
                procedure = replace(procedure, performed_at=when)
                uow.enrollments.update(enrollment_id, now=now, performed_at=when)
        if language is not None and language.strip().lower() != patient.language:
            lang = language.strip().lower()
            if lang not in plan.languages:
                raise UnsupportedLanguage(
                    f"{language!r} is not offered for {plan.procedure}; choose one of "
                    + ", ".join(plan.languages)
                )
            assert patient.id is not None
            uow.care.set_language(patient.id, lang)
            changes.append(f"language {patient.language} -> {lang}")
            patient = replace(patient, language=lang)
        if channels is not None:
            consents = _change_channels(uow, enrollment, patient, channels, by=by, now=now)
            old = sorted(c.value for c in allowed_channels(patient, enrollment.consents))
            new = sorted(c.value for c in allowed_channels(patient, consents))
            if old != new:
                changes.append(f"channels {'+'.join(old) or 'none'} -> {'+'.join(new)}")
        if not changes:
            return enrollment
        replan(
            uow,
            replace(enrollment, procedure=procedure),
            plan=plan,
            patient=patient,
            consents=consents,
            policy=planning.policy,
            now=now,
            reason=f"re-planned by {by}: " + "; ".join(changes),
        )
        audit.record(
            uow,
            actor=by,
            action="updated",
            detail="; ".join(changes),
            now=now,
            enrollment_id=enrollment_id,
        )
        uow.commit()
    return get_enrollment(enrollment_id, uow=uow)


def update_contact(
    enrollment_id: int,
    *,
    uow: UnitOfWork,
    by: str,
    now: datetime,
    phone: str | None,
    email: str | None,
    default_region: str,
) -> list[str]:
    """Take the patient's phone and email as an EHR's update gives them (audited); a value
    not given keeps what is there. Returns what changed, without the values (PHI)."""
    check_length(by, field="by", limit=ACTOR_MAX, label="name of who acts")
    new_phone = normalize_phone(phone, default_region=default_region) if phone else None
    new_email = normalize_email(email) if email else None
    with uow:
        enrollment = uow.enrollments.get(enrollment_id, for_update=True)
        if enrollment is None:
            raise EnrollmentNotFound(f"no enrollment {enrollment_id}")
        patient = enrollment.patient
        values: dict[str, str] = {}
        if new_phone and new_phone != patient.phone:
            values["phone"] = new_phone
        if new_email and new_email != patient.email:
            values["email"] = new_email
        if not values:
            return []
        assert patient.id is not None
        uow.care.set_contact(patient.id, **values)
        changes = [f"{name} changed" for name in values]
        audit.record(
            uow, actor=by, action="updated", detail="; ".join(changes), now=now,
            enrollment_id=enrollment_id,
        )  # fmt: skip
        uow.commit()
    return changes


def _change_channels(
    uow: UnitOfWork,
    enrollment: Enrollment,
    patient: Patient,
    wanted: Sequence[GiveConsent],
    *,
    by: str,
    now: datetime,
) -> list[Consent]:
    assert enrollment.id is not None
    asked = {c.channel: c for c in wanted}
    current = {c.channel for c in enrollment.consents if c.given}
    kept = [c for c in enrollment.consents if c.given and c.channel in asked]
    for channel in current - asked.keys():
        uow.care.withdraw_consent(enrollment.id, channel)
    for channel in asked.keys() - current:
        if channel is Channel.SMS and not patient.phone:
            raise NoConsent("there is no phone number to text", field="channels")
        if channel is Channel.EMAIL and not patient.email:
            raise NoConsent("there is no email address to write to", field="channels")
        give = asked[channel]
        consent = Consent(
            channel=channel,
            given=True,
            method=give.method,
            recorded_by=by,
            recorded_at=now,
            more_frequent_sms=give.more_frequent_sms,
        )
        uow.care.add_consent(enrollment.id, consent)
        kept.append(consent)
    if not allowed_channels(patient, kept):
        raise NoConsent(
            "keep at least one channel; to stop every message, cancel the enrollment",
            field="channels",
        )
    return kept


def open_enrollment(
    uow: UnitOfWork, enrollment_id: int, plans: CarePlanLibrary
) -> tuple[Enrollment, CarePlan]:
    enrollment = uow.enrollments.get(enrollment_id, for_update=True)
    if enrollment is None:
        raise EnrollmentNotFound(f"no enrollment {enrollment_id}")
    if enrollment.status != "active":
        raise EnrollmentClosed(
            f"enrollment {enrollment_id} was cancelled; restart its messages first"
        )
    return enrollment, plans.get(enrollment.procedure.procedure)


def replan(
    uow: UnitOfWork,
    enrollment: Enrollment,
    *,
    plan: CarePlan,
    patient: Patient,
    consents: Sequence[Consent],
    policy: SchedulePolicy,
    now: datetime,
    reason: str,
    history: SendHistory | None = None,
) -> int:
    assert enrollment.id is not None
    if history is None:  # what already went out is never planned again
        history = uow.message_reads.history(enrollment.id)
    uow.messages.cancel_unsent(enrollment.id, reason=reason, now=now, code=Reason.REPLANNED)
    planned = expand_care_plan(
        plan, enrollment.procedure, patient, list(consents), now=now, policy=policy, history=history
    )
    if enrollment.caregiver is not None:  # the caregiver's rows ride in the same revision
        planned += expand_caregiver_plan(
            plan,
            enrollment.procedure,
            enrollment.caregiver,
            timezone=patient.timezone,
            now=now,
            policy=policy,
            history=uow.message_reads.history(enrollment.id, caregiver=True),
        )
    revision = enrollment.revision + 1
    uow.messages.add_many(enrollment.id, revision, planned, now=now)
    uow.enrollments.update(enrollment.id, now=now, revision=revision)
    return revision
