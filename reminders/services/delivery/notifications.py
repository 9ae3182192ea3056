"""Notifications go out: on-call pages and check-in reminders, each once, retried by its kind."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.adapters.providers.ports import ProviderError
from reminders.adapters.rendering import RenderedEmail
from reminders.domain.outbound.decisions import Kind
from reminders.domain.outbound.retry import ALERT_GIVE_UP, ErrorClass, retry_delay
from reminders.services.content import clinic_context
from reminders.services.delivery.outgoing import (
    Delivery,
    Outgoing,
    SpokenCall,
    hand_over,
    masked,
    take_token,
)

log = logging.getLogger("reminders.escalation")

NOTE_SEND_LEASE = timedelta(minutes=2)  # a notification left `sending` this long is tried again


def deliver_notifications(
    *, uow: UnitOfWork, delivery: Delivery, ids: Sequence[int], now: Callable[[], datetime]
) -> dict[str, int]:
    """Send the given notifications now (each once, whoever else tries); record each outcome."""
    return dict(
        Counter(deliver_notification(i, uow=uow, delivery=delivery, now=now)[0] for i in ids)
    )


def retry_notifications(
    *, uow: UnitOfWork, delivery: Delivery, now: Callable[[], datetime]
) -> dict[str, int]:
    """Send alerts left pending by a crash, failed ones whose next try is due, stuck ones."""
    with uow:
        moment = now()
        ids = uow.notifications.due_notifications(
            now=moment, pending_before=moment - timedelta(minutes=1), stale=moment - NOTE_SEND_LEASE
        )
    return deliver_notifications(uow=uow, delivery=delivery, ids=ids, now=now)


def deliver_notification(
    notification_id: int, *, uow: UnitOfWork, delivery: Delivery, now: Callable[[], datetime]
) -> tuple[str, str | None]:
    """Send one notification if nobody else is: (sent | failed | nothing, why it failed)."""
    with uow:
        moment = now()
        note = uow.notifications.claim_notification(
            notification_id, now=moment, stale=moment - NOTE_SEND_LEASE
        )
        uow.commit()
    if note is None:
        return "nothing", None
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
            uow.commit()
        log.warning(
            "%s %s to %s failed: %s",
            note.kind,
            note.id,
            masked(out),
            exc.message,
        )
        return "failed", exc.message
    with uow:
        uow.notifications.notification_sent(note.id, provider_id=sent.provider_id, now=now())
        uow.commit()
    return "sent", None
