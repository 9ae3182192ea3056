"""Clinical events pause the plan: an emergency visit or admission holds the patient's messages.

Pausing cancels the unsent messages with a "paused" reason and sets the enrollment to
`paused`; resuming re-plans from now through care.restart (what already went out is
never repeated, what fell due during the pause is not sent late). Cancelling is
enrollment.cancel. Why not defer the messages instead: a pause has no known end, and a
day-1 icing reminder must not go out on day 9; re-planning on resume is what restart
already does, tested. See docs/replies.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.domain.enrollment.contact import normalize_phone
from reminders.domain.enrollment.fields import EXTERNAL_KEY_PREFIX
from reminders.domain.errors import EnrollmentClosed, EnrollmentNotFound, InvalidPhoneNumber
from reminders.domain.lifecycles.enrollment import PAUSE
from reminders.services import audit
from reminders.services.enrollments.fhir_encounters import ClinicalEvent

PAUSED = "paused"
HOSPITAL_TASK = "clinical_event"  # the staff task a pause opens; resume or cancel closes it


@dataclass(frozen=True)
class Paused:
    enrollment_id: int
    held: int  # unsent messages held back
    already: bool  # the plan was paused before (a repeated event): nothing changed


def find_enrollment(uow: UnitOfWork, event: ClinicalEvent, *, default_region: str) -> int | None:
    """The enrollment the event is about: by the procedure it names, else by phone."""
    with uow:
        found = enrollment_for_refs(uow, event.procedure_ids)
        if found is not None:
            return found
        if event.phone:
            try:
                phone = normalize_phone(event.phone, default_region=default_region)
            except InvalidPhoneNumber:
                return None
            match = uow.contacts.match_phone(phone)
            # Only the patient's own phone: a caregiver's visit is not the patient's.
            if (
                match is not None
                and match.caregiver is None
                and match.enrollment_status in ("active", PAUSED)
            ):
                return match.enrollment_id
    return None


def enrollment_for_refs(uow: UnitOfWork, refs: tuple[str, ...]) -> int | None:
    """The enrollment any of these EHR names ("fhir:sys|value", "fhir:Procedure/<id>") was
    enrolled under, or remembered for; inside the caller's transaction."""
    for ref in refs:
        found = uow.enrollments.id_for_key(EXTERNAL_KEY_PREFIX + ref)
        if found is None:
            found = uow.refs.enrollment_for(ref)
        if found is not None:
            return found
    return None


def remember_refs(uow: UnitOfWork, enrollment_id: int, refs: tuple[str, ...]) -> None:
    """Keep every name the EHR gave the enrolled Procedure, so a later Encounter or
    withdrawal that uses another one (its resource id) still finds it."""
    with uow:
        for ref in refs:
            if uow.enrollments.id_for_key(EXTERNAL_KEY_PREFIX + ref) is None:
                uow.refs.add(ref, enrollment_id)
        uow.commit()


def close_hospital_tasks(uow: UnitOfWork, enrollment_id: int, *, by: str, now: datetime) -> int:
    """Resolve the open hospital-visit task once staff resume or cancel the messages (inside
    the caller's transaction): the task asked for exactly that."""
    return uow.escalations.resolve_open(enrollment_id, HOSPITAL_TASK, by=by, now=now)


def pause(uow: UnitOfWork, *, enrollment_id: int, by: str, why: str, now: datetime) -> Paused:
    """Hold every unsent message, mark the enrollment paused, open a staff task (audited)."""
    with uow:
        e = uow.enrollments.get(enrollment_id, for_update=True)
        if e is None:
            raise EnrollmentNotFound(f"no enrollment {enrollment_id}")
        if e.status == PAUSED:
            return Paused(enrollment_id, 0, already=True)
        if e.status != "active":
            raise EnrollmentClosed(f"enrollment {enrollment_id} was cancelled; nothing to pause")
        held = uow.messages.cancel_unsent(
            enrollment_id, reason=f"paused: {why}; resume from the patient page", now=now
        )
        uow.enrollments.move(enrollment_id, PAUSE, now=now)
        uow.escalations.add_escalation(
            enrollment_id=enrollment_id,
            kind=HOSPITAL_TASK,
            reason=f"{why}: the patient's messages are paused ({held} held)."
            " Check on the patient, then resume or cancel the messages on the patient page.",
            created_at=now,
            updated_at=now,
        )
        audit.record(
            uow,
            actor=by,
            action="paused",
            detail=f"{why}; {held} unsent message(s) held",
            now=now,
            enrollment_id=enrollment_id,
        )
        uow.commit()
    return Paused(enrollment_id, held, already=False)
