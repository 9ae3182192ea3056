"""Check-in follow-up: silence gets one reminder, then a staff task to call the patient."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from reminders.adapters.db.decision_facts import FactsWanted, load_facts
from reminders.adapters.db.replies.checkin_repository import CheckIn
from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.domain.inbound.replies import ANSWER_WINDOW, REMINDER_AFTER, TASK_AFTER
from reminders.domain.lifecycles.message import Reason
from reminders.domain.outbound.decisions import Defer, Go, Kind, Skip, send_decision
from reminders.domain.planning.timing import zone_named
from reminders.services.content import clinic_context, has_template, patient_text, render_text
from reminders.services.delivery.notifications import deliver_notification
from reminders.services.delivery.outgoing import Delivery
from reminders.services.replies.silence import SILENCE, silence_of


def follow_up_checkins(
    *,
    uow: UnitOfWork,
    delivery: Delivery,
    now: Callable[[], datetime],
) -> dict[str, int]:
    """Remind once 24 h after an unanswered check-in; open a staff task 24 h later. Idempotent."""
    counts: Counter[str] = Counter()
    with uow:
        moment = now()
        uow.checkins.track_checkins(since=moment - ANSWER_WINDOW, now=moment)
        due = uow.checkins.due_reminders(asked_before=moment - REMINDER_AFTER)
        uow.commit()
    to_send: list[tuple[CheckIn, int]] = []
    for checkin in due:
        with uow:
            outcome, note_id = _remind(uow, checkin, delivery=delivery, now=now())
            uow.commit()
        counts[outcome] += 1
        if note_id is not None:
            to_send.append((checkin, note_id))
    for checkin, note_id in to_send:
        result, error = deliver_notification(note_id, uow=uow, delivery=delivery, now=now)
        counts[f"reminder_{result}"] += 1
        if result == "failed":
            with uow:
                open_task(uow, checkin, f"the reminder could not be sent ({error})", now())
                uow.commit()
    with uow:
        moment = now()
        for checkin in uow.checkins.due_tasks(reminded_before=moment - TASK_AFTER):
            if open_task(uow, checkin, "no answer after the reminder either", moment):
                counts["task"] += 1
        uow.commit()
    return dict(counts)


def _remind(
    uow: UnitOfWork,
    checkin: CheckIn,
    *,
    delivery: Delivery,
    now: datetime,
) -> tuple[str, int | None]:
    """Decide and record the reminder of one check-in (inside the caller's transaction)."""
    patient = uow.contacts.enrollment_contact(checkin.enrollment_id)
    if patient is None or patient.enrollment_status != "active":
        uow.checkins.set_checkin(
            checkin.id,
            frm=("open",),
            now=now,
            status="closed",
            closed_reason="enrollment cancelled",
        )
        return "closed", None
    last_chance = checkin.asked_at + REMINDER_AFTER + TASK_AFTER
    if now >= last_chance:  # the beat was down: too late to remind, not too late to call
        return _task(uow, checkin, "it is too late for a reminder", now), None
    if uow.checkins.newer_checkin_sent(checkin):
        return _task(uow, checkin, "a newer question was sent since", now), None
    silence = silence_of(uow, checkin)
    if silence is not None and silence.before >= 2:
        # The gentle text went out earlier in this silence: no more texts, staff call.
        claimed = uow.checkins.claim_checkin_step(checkin.id, "reminder_at", now=now)
        return ("silent" if claimed else "nothing"), None
    kind = Kind.SILENCE_NUDGE if silence else Kind.CHECKIN_REMINDER
    by_text, by_email = load_facts(
        uow.conn,
        [
            FactsWanted(
                kind=kind,
                channel=channel,
                enrollment_id=checkin.enrollment_id,
                deadline=last_chance,
                to=None,
                exclude=(),
                planned=True,
            )
            for channel in ("sms", "email")
        ],
        now=now,
    )
    decision = send_decision(by_text, delivery.policy, now)
    channel, recipient, why_not = "", "", ""
    if isinstance(decision, Go):
        channel, recipient = "sms", checkin.phone
    elif isinstance(decision, Defer) and decision.reason is Reason.QUIET_HOURS:
        return "waiting", None  # the patient's morning
    elif isinstance(decision, Skip) and decision.reason is Reason.STALE:
        return _task(uow, checkin, "quiet hours left no time to remind", now), None
    elif isinstance(decision, Skip) and decision.reason is Reason.OPTED_OUT:
        why_not = "the patient opted out of texts"
    elif isinstance(decision, Skip) and decision.reason is Reason.NO_CONSENT:
        why_not = "the patient has no consent to texts"
    else:
        why_not = "a text would pass the SMS limit"
    if not channel:
        by_mail = send_decision(by_email, delivery.policy, now)
        if isinstance(by_mail, Defer) and by_mail.reason is Reason.QUIET_HOURS:
            return "waiting", None
        if isinstance(by_mail, Go) and patient.email:
            channel, recipient = "email", patient.email
    if not channel:
        reason = f"no reminder could be sent: {why_not}, and no email consent"
        return _task(uow, checkin, reason, now), None
    if not uow.checkins.claim_checkin_step(checkin.id, "reminder_at", now=now):
        return "nothing", None
    renderer, lang = delivery.renderer, patient.language
    values: dict[str, Any] = {"channel": channel, "recipient": recipient}
    if channel == "sms":
        name = f"{'silence' if silence else 'reminder'}_{checkin.kind}"
        values["body"] = patient_text(renderer, delivery.clinic, lang, name)
    else:
        lang = lang if has_template(renderer, f"replies/{lang}/reminder.email.j2") else "en"
        context = {"clinic": clinic_context(delivery.clinic), "kind": checkin.kind}
        body = renderer.text_env.get_template(f"replies/{lang}/reminder.email.j2").render(**context)
        values["subject"] = render_text(renderer, f"{lang}/reminder.subject.j2", **context)
        values["body"] = (
            renderer.text_env.get_template(f"layouts/{lang}/email.txt.j2")
            .render(**context, body=body.strip(), patient={"first_name": patient.first_name})
            .strip()
        )
    note_id = uow.notifications.add_notification(
        now=now,
        kind=kind.value,
        checkin_id=checkin.id,
        enrollment_id=checkin.enrollment_id,
        deadline=last_chance,
        language=lang,
        **values,
    )
    return f"reminder_{channel}", note_id


def _task(uow: UnitOfWork, checkin: CheckIn, why: str, now: datetime) -> str:
    return "task" if open_task(uow, checkin, why, now) else "nothing"


QUESTIONS = {
    "pain": "pain (0-10)",
    "warning": "warning signs (YES/NO)",
    "pain_warning": "pain (0-10) and warning signs (YES/NO)",
    "bone_med": "bone medicine started (YES/NO)",
}


def open_task(uow: UnitOfWork, checkin: CheckIn, why: str, now: datetime) -> bool:
    """Open the no-answer staff task of a check-in once (inside the caller's transaction)."""
    if not uow.checkins.claim_checkin_step(checkin.id, "task_at", now=now):
        return False
    uow.checkins.set_checkin(checkin.id, frm=("open",), now=now, status="no_answer")
    contact = uow.contacts.enrollment_contact(checkin.enrollment_id)
    zone = zone_named(contact.timezone if contact else "UTC")
    asked = checkin.asked_at.astimezone(zone).strftime("%a %b %-d %-I:%M %p")
    question = QUESTIONS.get(checkin.kind, checkin.kind)
    silence = silence_of(uow, checkin)
    if silence is not None:
        task = uow.escalations.escalation_for_checkin(silence.second_checkin_id, SILENCE)
        if silence.before >= 2 and task is not None:
            note = f"Still no answer: the {question} check-in asked {asked}."
            uow.escalations.add_note(task, note, now=now)
            return True
        uow.escalations.add_escalation(
            enrollment_id=checkin.enrollment_id,
            checkin_id=checkin.id,
            kind=SILENCE,
            reason=f"no answer from this patient since day {silence.since_day}"
            f" ({silence.before + 1} check-ins in a row, the last asked {asked}; {why})."
            " Call the patient.",
            created_at=now,
            updated_at=now,
        )
        return True
    uow.escalations.add_escalation(
        enrollment_id=checkin.enrollment_id,
        checkin_id=checkin.id,
        kind="no_answer",
        reason=f"no answer to the {question} check-in asked {asked}; {why}. Call the patient.",
        created_at=now,
        updated_at=now,
    )
    return True
