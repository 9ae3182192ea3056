"""Escalation to staff: red flags alert the on-call contact at once; silence becomes a task."""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from reminders.adapters.checkin_repository import CheckIn
from reminders.adapters.contact_repository import PhoneMatch
from reminders.adapters.providers import ProviderError, Sent
from reminders.adapters.rendering import MessageRenderer, to_blocks
from reminders.adapters.unit_of_work import UnitOfWork
from reminders.domain.contact import mask_email, mask_phone, normalize_phone
from reminders.domain.delivery import ErrorClass
from reminders.domain.errors import InvalidPhoneNumber
from reminders.domain.replies import (
    ANSWER_WINDOW,
    REMINDER_AFTER,
    TASK_AFTER,
    Escalation,
    EscalationClosed,
    EscalationNotFound,
    EscalationStatus,
    fits_sms_cap,
)
from reminders.domain.schedule import SchedulePolicy
from reminders.domain.timing import zone_named
from reminders.services import audit
from reminders.services.content import Clinic
from reminders.services.sending import Delivery
from reminders.settings import Settings

log = logging.getLogger("reminders.escalation")

ALERT_GIVE_UP = timedelta(hours=24)  # an alert is retried this long, unless permanent
SEND_LEASE = timedelta(minutes=2)  # a notification left `sending` this long is tried again
STILL_OPEN = (EscalationStatus.OPEN.value, EscalationStatus.ACKNOWLEDGED.value)


@dataclass(frozen=True)
class OnCall:
    """Who is alerted about a red flag: a phone (SMS) and/or an email address."""

    phone: str = ""
    email: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> OnCall:
        phone = settings.oncall_phone.strip()
        try:
            phone = normalize_phone(phone, default_region=settings.default_region) if phone else ""
        except InvalidPhoneNumber:
            log.error("REMINDERS_ONCALL_PHONE is not a valid number; alerts to it will fail")
        return cls(phone=phone, email=settings.oncall_email.strip())


def retry_delay(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Backoff for a failed alert: 30 s doubling to 10 min, with jitter."""
    bound = min(timedelta(minutes=10), timedelta(seconds=30) * 2 ** max(attempts - 1, 0))
    return bound * (rng or random).uniform(0.5, 1.0)


def render_text(renderer: MessageRenderer, name: str, **context: Any) -> str:
    """Render templates/replies/<name> on one line (an SMS) with the clinic's name."""
    text = renderer.text_env.get_template(f"replies/{name}").render(**context)
    return " ".join(text.split())


def patient_text(renderer: MessageRenderer, clinic: Clinic, language: str, name: str) -> str:
    """A reply to a patient in their language (English when we have no such template)."""
    lang = language if _has(renderer, f"replies/{language}/{name}.j2") else "en"
    return render_text(renderer, f"{lang}/{name}.j2", clinic=_clinic(clinic), kind="")


def _has(renderer: MessageRenderer, name: str) -> bool:
    return name in renderer.text_env.list_templates()


def _clinic(clinic: Clinic) -> dict[str, str]:
    return {"name": clinic.name, "phone": clinic.phone}


# ---- red flags ---------------------------------------------------------------------------


def raise_red_flag(
    uow: UnitOfWork,
    *,
    patient: PhoneMatch,
    phone: str,
    checkin_id: int,
    inbound_id: int,
    reason: str,
    reply: str,
    oncall: OnCall,
    renderer: MessageRenderer,
    clinic: Clinic,
    public_url: str,
    now: datetime,
) -> tuple[int, list[int]]:
    """Open an escalation and queue one alert per on-call contact, in the caller's transaction."""
    escalation_id = uow.escalations.add_escalation(
        enrollment_id=patient.enrollment_id,
        checkin_id=checkin_id,
        inbound_id=inbound_id,
        kind="red_flag",
        reason=reason,
        created_at=now,
        updated_at=now,
    )
    context = {
        "clinic": _clinic(clinic),
        "patient": {
            "short_name": f"{patient.first_name} {patient.last_name[:1]}.",
            "name": f"{patient.first_name} {patient.last_name}",
            "phone": phone,
        },
        "enrollment_id": patient.enrollment_id,
        "reason": reason,
        "reply": reply[:300],
        "received": now.astimezone(zone_named(patient.timezone)).strftime("%a %b %-d %-I:%M %p %Z"),
        "link": f"{public_url}/staff/inbox#escalation-{escalation_id}",
    }
    ids = []
    common = {"escalation_id": escalation_id, "kind": "oncall_alert", "language": "en"}
    if oncall.phone:
        body = render_text(renderer, "staff/oncall.sms.j2", **context)
        ids.append(
            uow.notifications.add_notification(
                now=now, channel="sms", recipient=oncall.phone, body=body, **common
            )
        )
    if oncall.email:
        ids.append(
            uow.notifications.add_notification(
                now=now,
                channel="email",
                recipient=oncall.email,
                subject=render_text(renderer, "staff/oncall.subject.j2", **context),
                body=renderer.text_env.get_template("replies/staff/oncall.email.j2")
                .render(**context)
                .strip(),
                **common,
            )
        )
    if not ids:
        uow.escalations.add_note(
            escalation_id,
            "Nobody was alerted: set REMINDERS_ONCALL_PHONE or REMINDERS_ONCALL_EMAIL.",
            now=now,
        )
        log.error("red flag %s: no on-call contact is configured", escalation_id)
    return escalation_id, ids


def deliver_notifications(
    *, uow: UnitOfWork, delivery: Delivery, ids: Sequence[int], now: Callable[[], datetime]
) -> dict[str, int]:
    """Send the given notifications now (each once, whoever else tries); record each outcome."""
    return dict(Counter(_send_one(i, uow=uow, delivery=delivery, now=now) for i in ids))


def retry_notifications(
    *, uow: UnitOfWork, delivery: Delivery, now: Callable[[], datetime]
) -> dict[str, int]:
    """Send alerts left pending by a crash, failed ones whose next try is due, stuck ones."""
    with uow:
        moment = now()
        ids = uow.notifications.due_notifications(
            now=moment, pending_before=moment - timedelta(minutes=1), stale=moment - SEND_LEASE
        )
    return deliver_notifications(uow=uow, delivery=delivery, ids=ids, now=now)


def _send_one(
    notification_id: int, *, uow: UnitOfWork, delivery: Delivery, now: Callable[[], datetime]
) -> str:
    with uow:
        moment = now()
        note = uow.notifications.claim_notification(
            notification_id, now=moment, stale=moment - SEND_LEASE
        )
        uow.commit()
    if note is None:
        return "nothing"
    reference = f"rr-n{note.id}"
    try:
        sent: Sent
        if note.channel == "sms":
            if note.kind == "checkin_reminder":  # a patient message: keep to the sender's rate
                delivery.limiter.acquire(delivery.sms.sender, timeout=delivery.rate_wait)
            sent = delivery.sms.send_sms(to=note.recipient, body=note.body, reference=reference)
        else:
            subject = note.subject or ""
            html = delivery.renderer.html_env.get_template("layouts/email.html.j2").render(
                clinic=_clinic(delivery.clinic),
                subject=subject,
                blocks=to_blocks(note.body),
                language=note.language,
            )
            sent = delivery.email.send_email(
                to=note.recipient,
                subject=subject,
                text=note.body + "\n",
                html=html,
                reference=reference,
            )
    except ProviderError as exc:
        with uow:
            moment = now()
            retry_at = None
            if (
                note.kind == "oncall_alert"
                and exc.error_class is not ErrorClass.PERMANENT
                and moment - note.created_at < ALERT_GIVE_UP
            ):
                retry_at = moment + retry_delay(note.attempts)
            uow.notifications.notification_failed(
                note.id,
                code=exc.code,
                error_class=exc.error_class.value,
                error=exc.message,
                retry_at=retry_at,
                now=moment,
            )
            if note.kind == "checkin_reminder" and note.checkin_id is not None:
                checkin = uow.checkins.checkin(note.checkin_id)
                if checkin is not None:
                    open_task(
                        uow, checkin, f"the reminder could not be sent ({exc.message})", moment
                    )
            uow.commit()
        log.warning(
            "%s %s to %s failed: %s",
            note.kind,
            note.id,
            _masked(note.channel, note.recipient),
            exc.message,
        )
        return "failed"
    with uow:
        uow.notifications.notification_sent(note.id, provider_id=sent.provider_id, now=now())
        uow.commit()
    return "sent"


def _masked(channel: str, recipient: str) -> str:
    return mask_phone(recipient) if channel == "sms" else mask_email(recipient)


# ---- silence: one reminder, then a staff task ----------------------------------------------


def follow_up_checkins(
    *,
    uow: UnitOfWork,
    delivery: Delivery,
    policy: SchedulePolicy,
    now: Callable[[], datetime],
) -> dict[str, int]:
    """Remind once 24 h after an unanswered check-in; open a staff task 24 h later. Idempotent."""
    counts: Counter[str] = Counter()
    with uow:
        moment = now()
        uow.checkins.track_checkins(since=moment - ANSWER_WINDOW, now=moment)
        due = uow.checkins.due_reminders(asked_before=moment - REMINDER_AFTER)
        uow.commit()
    to_send = []
    for checkin in due:
        with uow:
            outcome, note_id = _remind(uow, checkin, delivery=delivery, policy=policy, now=now())
            uow.commit()
        counts[outcome] += 1
        if note_id is not None:
            to_send.append(note_id)
    for result, n in deliver_notifications(
        uow=uow, delivery=delivery, ids=to_send, now=now
    ).items():
        counts[f"reminder_{result}"] += n
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
    policy: SchedulePolicy,
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
    zone = zone_named(patient.timezone)
    last_chance = checkin.asked_at + REMINDER_AFTER + TASK_AFTER
    if now >= last_chance:  # the beat was down: too late to remind, not too late to call
        return _task(uow, checkin, "it is too late for a reminder", now), None
    if uow.checkins.newer_checkin_sent(checkin):
        return _task(uow, checkin, "a newer question was sent since", now), None
    quiet = delivery.quiet_hours
    if not quiet.allows(now, zone):
        if quiet.next_allowed(now, zone) < last_chance:
            return "waiting", None  # the patient's morning
        return _task(uow, checkin, "quiet hours left no time to remind", now), None
    channel, recipient, why_not = "", "", ""
    if uow.delivery.is_opted_out(checkin.phone):
        why_not = "the patient opted out of texts"
    else:
        days = [t.astimezone(zone).date() for t in uow.checkins.sms_times(checkin.phone)]
        lifted = uow.contacts.sms_cap_lifted(checkin.phone)
        cap = policy.sms_cap_with_written_consent if lifted else policy.sms_cap
        if fits_sms_cap(now.astimezone(zone).date(), days, cap):
            channel, recipient = "sms", checkin.phone
        else:
            why_not = "a text would pass the SMS limit"
    if not channel and (email := uow.contacts.email_consented(checkin.enrollment_id)):
        channel, recipient = "email", email
    if not channel:
        reason = f"no reminder could be sent: {why_not}, and no email consent"
        return _task(uow, checkin, reason, now), None
    if not uow.checkins.claim_checkin_step(checkin.id, "reminder_at", now=now):
        return "nothing", None
    renderer, lang = delivery.renderer, patient.language
    values: dict[str, Any] = {"channel": channel, "recipient": recipient}
    if channel == "sms":
        name = f"reminder_{checkin.kind}"
        values["body"] = patient_text(renderer, delivery.clinic, lang, name)
    else:
        lang = lang if _has(renderer, f"replies/{lang}/reminder.email.j2") else "en"
        context = {"clinic": _clinic(delivery.clinic), "kind": checkin.kind}
        body = renderer.text_env.get_template(f"replies/{lang}/reminder.email.j2").render(**context)
        values["subject"] = render_text(renderer, f"{lang}/reminder.subject.j2", **context)
        values["body"] = (
            renderer.text_env.get_template(f"layouts/{lang}/email.txt.j2")
            .render(**context, body=body.strip(), patient={"first_name": patient.first_name})
            .strip()
        )
    note_id = uow.notifications.add_notification(
        now=now, kind="checkin_reminder", checkin_id=checkin.id, language=lang, **values
    )
    return f"reminder_{channel}", note_id


def _task(uow: UnitOfWork, checkin: CheckIn, why: str, now: datetime) -> str:
    return "task" if open_task(uow, checkin, why, now) else "nothing"


def open_task(uow: UnitOfWork, checkin: CheckIn, why: str, now: datetime) -> bool:
    """Open the no-answer staff task of a check-in once (inside the caller's transaction)."""
    if not uow.checkins.claim_checkin_step(checkin.id, "task_at", now=now):
        return False
    uow.checkins.set_checkin(checkin.id, frm=("open",), now=now, status="no_answer")
    contact = uow.contacts.enrollment_contact(checkin.enrollment_id)
    zone = zone_named(contact.timezone if contact else "UTC")
    asked = checkin.asked_at.astimezone(zone).strftime("%a %b %-d %-I:%M %p")
    question = "pain (0-10)" if checkin.kind == "pain" else "warning signs (YES/NO)"
    uow.escalations.add_escalation(
        enrollment_id=checkin.enrollment_id,
        checkin_id=checkin.id,
        kind="no_answer",
        reason=f"no answer to the {question} check-in asked {asked}; {why}. Call the patient.",
        created_at=now,
        updated_at=now,
    )
    return True


# ---- what staff do ---------------------------------------------------------------------------


def open_escalations(*, uow: UnitOfWork) -> list[Escalation]:
    """Escalations not yet resolved: red flags first, newest first."""
    with uow:
        return uow.escalations.escalations(statuses=STILL_OPEN)


def recently_resolved(*, uow: UnitOfWork, limit: int = 20) -> list[Escalation]:
    """The last escalations staff resolved, newest first."""
    with uow:
        found = uow.escalations.escalations(
            statuses=(EscalationStatus.RESOLVED.value,), limit=limit
        )
    return sorted(found, key=lambda e: e.resolved_at or e.created_at, reverse=True)


def get_escalation(*, uow: UnitOfWork, escalation_id: int) -> Escalation:
    """Return one escalation with its alerts, or raise EscalationNotFound."""
    with uow:
        found = uow.escalations.escalations(ids=[escalation_id], limit=1)
    if not found:
        raise EscalationNotFound(f"no escalation {escalation_id}")
    return found[0]


def acknowledge(
    *, uow: UnitOfWork, escalation_id: int, by: str, note: str, now: datetime
) -> Escalation:
    """Say someone is on it: open -> acknowledged, with an optional note (audited)."""
    return _move(uow, escalation_id, by, note, now, EscalationStatus.ACKNOWLEDGED)


def resolve(
    *, uow: UnitOfWork, escalation_id: int, by: str, note: str, now: datetime
) -> Escalation:
    """Close an escalation with what was done (a note is required)."""
    if not note.strip():
        raise EscalationClosed("write what was done before resolving", field="note")
    return _move(uow, escalation_id, by, note, now, EscalationStatus.RESOLVED)


def _move(
    uow: UnitOfWork, escalation_id: int, by: str, note: str, now: datetime, to: EscalationStatus
) -> Escalation:
    current = get_escalation(uow=uow, escalation_id=escalation_id)
    with uow:
        if to is EscalationStatus.ACKNOWLEDGED:
            moved = uow.escalations.set_escalation(
                escalation_id,
                frm=(EscalationStatus.OPEN.value,),
                now=now,
                status=to.value,
                acknowledged_at=now,
                acknowledged_by=by,
            )
        else:
            moved = uow.escalations.set_escalation(
                escalation_id,
                frm=STILL_OPEN,
                now=now,
                status=to.value,
                resolved_at=now,
                resolved_by=by,
            )
        if not moved and current.status is EscalationStatus.RESOLVED:
            raise EscalationClosed(f"escalation {escalation_id} was already resolved")
        if note.strip():
            uow.escalations.add_note(escalation_id, f"{by}: {note.strip()[:2000]}", now=now)
        audit.record(
            uow,
            actor=by,
            action=f"escalation_{to.value}",
            detail=f"#{escalation_id} {current.reason}"
            + (f": {note.strip()[:200]}" if note.strip() else ""),
            now=now,
            enrollment_id=current.enrollment_id,
        )
        uow.commit()
    return get_escalation(uow=uow, escalation_id=escalation_id)


def open_counts(*, uow: UnitOfWork) -> dict[str, int]:
    """Escalations not yet resolved, by kind (for /metrics)."""
    with uow:
        return uow.escalations.count_open_escalations()
