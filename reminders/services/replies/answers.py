"""A check-in answer, or a text that signals danger: record it; open the red flag or task it needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reminders.adapters.db.enrollments.contact_repository import PhoneMatch
from reminders.adapters.db.replies.checkin_repository import CheckIn
from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.adapters.rendering import MessageRenderer
from reminders.domain.inbound.danger import danger
from reminders.domain.inbound.replies import Intent, bone_med_task, red_flag
from reminders.services import audit
from reminders.services.content import Clinic, patient_text
from reminders.services.replies.alerts import OnCall, raise_red_flag

OPEN = ("open", "no_answer")  # a late answer (after the staff task) still counts


@dataclass(frozen=True)
class Replying:
    """What answering a patient needs, wired once by the entrypoint."""

    renderer: MessageRenderer
    clinic: Clinic
    oncall: OnCall
    public_url: str


@dataclass
class Outcome:
    action: str
    detail: str = ""
    reply: str | None = None
    needs_staff: bool = False
    message_id: int | None = None
    notification_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class ReplyContext:
    uow: UnitOfWork
    replying: Replying
    phone: str
    patient: PhoneMatch | None
    checkin: CheckIn | None
    inbound_id: int
    body: str
    now: datetime

    def text(self, name: str) -> str:
        language = self.patient.language if self.patient else "en"
        return patient_text(self.replying.renderer, self.replying.clinic, language, name)

    def audit(self, action: str, detail: str) -> None:
        if self.patient is not None:
            audit.record(
                self.uow,
                actor="caregiver" if self.patient.caregiver else "patient",
                action=action,
                detail=detail,
                now=self.now,
                enrollment_id=self.patient.enrollment_id,
            )


def take_answer(intent: Intent, ctx: ReplyContext, checkin: CheckIn) -> Outcome:
    """Record the answer to an open check-in; a red flag or a staff task when it calls for one."""
    uow, now = ctx.uow, ctx.now
    answer = intent.answer
    assert answer is not None
    if not uow.checkins.set_checkin(checkin.id, frm=OPEN, now=now, status="answered"):
        return Outcome("unmatched", "the question was answered a moment ago", None, True)
    previous = (
        uow.checkins.previous_pain(checkin.enrollment_id) if answer.pain is not None else None
    )
    why = red_flag(answer, previous_pain=previous)
    shown = f"{answer.text}/10" if answer.kind == "pain" else answer.text.upper()
    if why is None and (words := danger(ctx.body)) is not None:
        why = f'answered {shown} and wrote "{words}"'
    uow.checkins.add_answer(
        checkin_id=checkin.id,
        enrollment_id=checkin.enrollment_id,
        inbound_id=ctx.inbound_id,
        kind=answer.kind,
        answer=answer.text,
        pain=answer.pain,
        red_flag=why is not None,
        reason=why,
        answered_at=now,
    )
    if checkin.status == "no_answer":
        task = uow.escalations.escalation_for_checkin(checkin.id, "no_answer")
        if task is not None:
            uow.escalations.add_note(task, f"The patient answered later: {answer.text}.", now=now)
    if follow_up := bone_med_task(answer):
        escalation_id = uow.escalations.add_escalation(
            enrollment_id=checkin.enrollment_id,
            checkin_id=checkin.id,
            inbound_id=ctx.inbound_id,
            kind="task",
            reason=follow_up,
            created_at=now,
            updated_at=now,
        )
        detail = f"{answer.kind} check-in answered: {shown}; staff task #{escalation_id}"
        return Outcome("answer", detail, ctx.text("thanks"), message_id=checkin.message_id)
    detail = f"{answer.kind} check-in answered: {shown}"
    if why is None:
        return Outcome("answer", detail, ctx.text("thanks"), message_id=checkin.message_id)
    return raise_flag(ctx, why, checkin.id, checkin.message_id, detail)


def raise_flag(
    ctx: ReplyContext, reason: str, checkin_id: int | None, message_id: int | None, detail: str
) -> Outcome:
    """Open a red flag for the patient and queue the on-call alerts (same transaction)."""
    uow = ctx.uow
    patient = ctx.patient
    if patient is None and ctx.checkin is not None:
        patient = uow.contacts.enrollment_contact(ctx.checkin.enrollment_id)
    assert patient is not None
    r = ctx.replying
    escalation_id, notes = raise_red_flag(
        uow,
        patient=patient,
        phone=ctx.phone,
        checkin_id=checkin_id,
        inbound_id=ctx.inbound_id,
        reason=reason,
        reply=ctx.body,
        oncall=r.oncall,
        renderer=r.renderer,
        clinic=r.clinic,
        public_url=r.public_url,
        now=ctx.now,
    )
    return Outcome(
        "red_flag",
        f"{detail}; red flag, escalation #{escalation_id}",
        ctx.text("red_flag"),
        message_id=message_id,
        notification_ids=tuple(notes),
    )
