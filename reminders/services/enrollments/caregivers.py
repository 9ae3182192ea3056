"""Add, change or remove an enrollment's caregiver from the patient page: checked, re-planned, audited.

The caregiver is checked by the intake rules (domain/enrollment/caregiver.py); its unsent messages
are re-planned with the patient's in the enrollment's next revision (care.replan), so a
removed caregiver gets nothing more and a changed one gets the rest of its messages at
its new phone or address, in its new language. One transaction with the audit entry.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.domain.enrollment.caregiver import check_caregiver
from reminders.domain.enrollment.commands import AddCaregiver
from reminders.domain.errors import InvalidEnrollment
from reminders.domain.model import Enrollment
from reminders.services import audit
from reminders.services.enrollments.bundles import Planning
from reminders.services.enrollments.care import open_enrollment, replan
from reminders.services.enrollments.enrollment import get_enrollment


def set_caregiver(
    enrollment_id: int,
    caregiver: AddCaregiver | None,
    *,
    uow: UnitOfWork,
    planning: Planning,
    by: str,
    now: datetime,
) -> Enrollment:
    """Put (or, with None, remove) the caregiver; raise InvalidEnrollment naming each field."""
    with uow:
        enrollment, plan = open_enrollment(uow, enrollment_id, planning.plans)
        before = enrollment.caregiver
        if caregiver is None:
            if before is None:
                return enrollment
            uow.caregivers.remove(enrollment_id)
            action, detail, new = "caregiver_removed", f"caregiver {before.name} removed", None
        else:
            new, errors = check_caregiver(
                caregiver,
                patient_phone=enrollment.patient.phone,
                patient_language=enrollment.patient.language,
                languages=plan.languages,
                default_region=planning.default_region,
            )
            if new is None:
                raise InvalidEnrollment(errors)
            if before is not None and replace(before, id=None) == new:
                return enrollment
            uow.caregivers.put(enrollment_id, new, by=by, now=now)
            channels = "+".join(sorted(c.value for c in new.channels))
            action = "caregiver_changed" if before else "caregiver_added"
            detail = f"caregiver {new.name} ({new.relationship or 'no relationship given'}),"
            detail += f" {new.language}, consent to {channels}"
        replan(
            uow,
            replace(enrollment, caregiver=new),
            plan=plan,
            patient=enrollment.patient,
            consents=enrollment.consents,
            policy=planning.policy,
            now=now,
            reason=f"re-planned by {by}: {detail}",
        )
        audit.record(
            uow, actor=by, action=action, detail=detail, now=now, enrollment_id=enrollment_id
        )
        uow.commit()
    return get_enrollment(enrollment_id, uow=uow)
