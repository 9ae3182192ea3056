"""A check-in answer, or a text that signals danger: record it; open the red flag or task it needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reminders.adapters.db.enrollments.contact_repository import PhoneMatch
from reminders.adapters.db.replies.checkin_repository import CheckIn
from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.adapters.rendering import MessageRenderer
from reminders.domain.inbound.replies import bone_med_task, both_halves
from reminders.domain.inbound.triage import Triage, shown
from reminders.services import audit
from reminders.services.content import Clinic, patient_text
from reminders.services.replies.alerts import OnCall, raise_red_flag

PARTIAL = "partial"  # a pain-and-warning check-in answered in part ("7"): the rest may follow
OPEN = ("open", "no_answer", PARTIAL)  # a late answer (after the staff task) still counts


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


def take_answer(decided: Triage, ctx: ReplyContext, checkin: CheckIn) -> Outcome:
    """Record the answer to an open check-in; a red flag or a staff task when it calls for one.

    Half a pain-and-warning answer leaves the check-in `partial`, so the other half ("7",
    then "YES" minutes later) still answers it within the check-in's window.
    """
    uow, now = ctx.uow, ctx.now
    answer = decided.answer
    assert answer is not None
    status = PARTIAL if decided.partial else "answered"
    if not uow.checkins.set_checkin(checkin.id, frm=OPEN, now=now, status=status):
        return Outcome("unmatched", "the question was answered a moment ago", None, True)
    why = decided.flag
    said = shown(answer)
    earlier = uow.checkins.answer_of(checkin.id) if checkin.status == PARTIAL else None
    if earlier is not None:  # the rest of a half answer: one answer, both halves
        text, pain, flagged, reason = earlier
        combined = both_halves(text, answer)
        said = combined.upper()
        uow.checkins.complete_answer(
            checkin.id,
            inbound_id=ctx.inbound_id,
            answer=combined,
            pain=answer.pain if answer.pain is not None else pain,
            red_flag=flagged or why is not None,
            reason=why or reason,
            answered_at=now,
        )
    else:
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
        detail = f"{answer.kind} check-in answered: {said}; staff task #{escalation_id}"
        return Outcome("answer", detail, ctx.text("thanks"), message_id=checkin.message_id)
    detail = f"{checkin.kind} check-in answered: {said}"
    if decided.partial:
        detail += " (half an answer: the rest may follow)"
    if decided.needs_staff and why is None:
        detail += "; more than an answer was written: staff should read it"
    if why is None:
        return Outcome(
            "answer", detail, ctx.text("thanks"), decided.needs_staff, checkin.message_id
        )
    return raise_flag(ctx, f"{who_wrote(ctx)}{why}", checkin.id, checkin.message_id, detail)


def who_wrote(ctx: ReplyContext) -> str:
    """Who wrote, when it is not the patient: staff (and the on-call page) must know."""
    patient = ctx.patient
    return f"the caregiver ({patient.caregiver}) " if patient and patient.caregiver else ""


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
