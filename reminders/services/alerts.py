"""Alerts: a red flag alerts the on-call contact at once; notifications are sent and retried."""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from reminders.adapters.contact_repository import PhoneMatch
from reminders.adapters.providers import ProviderError
from reminders.adapters.rendering import MessageRenderer, RenderedEmail
from reminders.adapters.unit_of_work import UnitOfWork
from reminders.domain.decisions import Kind
from reminders.domain.oncall import Step, ack_code
from reminders.domain.retry import ErrorClass
from reminders.domain.timing import zone_named
from reminders.services.content import Clinic, clinic_names
from reminders.services.oncall import OnCall
from reminders.services.outgoing import (
    Delivery,
    Outgoing,
    SpokenCall,
    hand_over,
    masked,
    take_token,
)

log = logging.getLogger("reminders.escalation")

ALERT_GIVE_UP = timedelta(hours=24)  # an alert is retried this long, unless permanent
SEND_LEASE = timedelta(minutes=2)  # a notification left `sending` this long is tried again


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
    lang = language if has_template(renderer, f"replies/{language}/{name}.j2") else "en"
    return render_text(renderer, f"{lang}/{name}.j2", clinic=clinic_context(clinic), kind="")


def has_template(renderer: MessageRenderer, name: str) -> bool:
    """Whether the renderer has this template (a language may lack some)."""
    return name in renderer.text_env.list_templates()


def clinic_context(clinic: Clinic) -> dict[str, Any]:
    """The clinic as reply templates see it (the same names as message templates)."""
    return clinic_names(clinic)


# ---- red flags ---------------------------------------------------------------------------


def raise_red_flag(
    uow: UnitOfWork,
    *,
    patient: PhoneMatch,
    phone: str,
    checkin_id: int | None,
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
    code = ack_code()
    while uow.escalations.escalation_by_code(code) is not None:  # 31^4 codes: rarely twice
        code = ack_code()
    primary, backup = oncall.contacts(now)
    escalation_id = uow.escalations.add_escalation(
        enrollment_id=patient.enrollment_id,
        checkin_id=checkin_id,
        inbound_id=inbound_id,
        kind="red_flag",
        reason=reason,
        created_at=now,
        updated_at=now,
        code=code,
        pages=1,
        # Nobody to page at all: there is no ladder to climb, the inbox says so.
        next_page_at=now + oncall.ack if (primary or backup) else None,
    )
    context = {
        "clinic": clinic_context(clinic),
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
        "code": code,
    }
    ids: list[int] = []
    common = {
        "escalation_id": escalation_id,
        "kind": "oncall_alert",
        "language": "en",
        "step": Step.PAGE.value,
    }
    contact = primary or backup
    if contact is not None and contact.phone:
        body = render_text(renderer, "staff/oncall.sms.j2", **context)
        ids.append(
            uow.notifications.add_notification(
                now=now, channel="sms", recipient=contact.phone, body=body, **common
            )
        )
    if contact is not None and contact.email:
        ids.append(
            uow.notifications.add_notification(
                now=now,
                channel="email",
                recipient=contact.email,
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
            "Nobody was alerted: set REMINDERS_ONCALL_PHONE, REMINDERS_ONCALL_EMAIL"
            " or REMINDERS_ONCALL_ROTA.",
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
    content: str | RenderedEmail | SpokenCall = note.body
    if note.channel == "voice":
        content = SpokenCall(note.body)
    elif note.channel != "sms":
        content = delivery.renderer.plain_email(
            subject=note.subject or "",
            text=note.body,
            language=note.language,
            clinic=clinic_context(delivery.clinic),
        )
    out = Outgoing(Kind(note.kind), note.recipient, content, f"rr-n{note.id}")
    try:
        # Every text keeps to the sender's shared rate; an alert to staff waits for its
        # token like any text but, unlike a reminder, never gives up its turn for it.
        if out.is_sms and not take_token(delivery) and out.kind is not Kind.ONCALL_ALERT:
            raise ProviderError("no rate-limit token in time", error_class=ErrorClass.TRANSIENT)
        sent = hand_over(out, delivery=delivery)
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
                from reminders.services.checkins import open_task  # checkins imports this module

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
            masked(out),
            exc.message,
        )
        return "failed"
    with uow:
        uow.notifications.notification_sent(note.id, provider_id=sent.provider_id, now=now())
        uow.commit()
    return "sent"
