"""Notifications go out: on-call pages and calls, check-in reminders and silence nudges.

The same path as a care message, one at a time: claimed (scheduled -> queued), decided by
send_decision from facts the one loader reads (a reminder to a patient who withdrew
consent is skipped here even though it was queued before), taken (queued -> sending, its
attempt the fence), handed over, and recorded; a failure is retried as its kind declares
(domain/outbound/decisions.KINDS: pages for a day, reminders never: staff call instead).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from reminders.adapters.db.decision_facts import FactsWanted, load_facts
from reminders.adapters.db.messages.notification_repository import OutgoingNote
from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.adapters.providers.ports import ProviderError, Sent
from reminders.adapters.rendering import RenderedEmail
from reminders.domain.outbound.decisions import KINDS, Defer, Retry, Skip, send_decision
from reminders.domain.outbound.retry import ALERT_GIVE_UP, ErrorClass, retry_delay
from reminders.services.content import clinic_context
from reminders.services.delivery.outgoing import (
    Delivery,
    Outgoing,
    SpokenCall,
    hand_over,
    masked,
    slow_down,
    take_token,
)

log = logging.getLogger("reminders.escalation")

FRESH_GRACE = timedelta(minutes=1)  # a fresh notification's own task has this long to run


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
    """Send notifications nobody took (a crash, the broker down) and retries now due."""
    with uow:
        moment = now()
        ids = uow.notifications.due_notifications(now=moment, fresh_before=moment - FRESH_GRACE)
    return deliver_notifications(uow=uow, delivery=delivery, ids=ids, now=now)


def deliver_notification(
    notification_id: int, *, uow: UnitOfWork, delivery: Delivery, now: Callable[[], datetime]
) -> tuple[str, str | None]:
    """Send one notification if nobody else is: (sent | failed | skipped | deferred |
    unknown | nothing, why it did not go)."""
    with uow:
        moment = now()
        note = uow.notifications.claim_notification(
            notification_id, now=moment, lease_until=moment + delivery.send_lease
        )
        if note is None:
            uow.commit()
            return "nothing", None
        (facts,) = load_facts(
            uow.conn,
            [
                FactsWanted(
                    kind=note.send_kind,
                    channel=note.channel,
                    enrollment_id=note.enrollment_id,
                    deadline=note.deadline,
                    to=note.recipient,
                    exclude=(),
                    planned=False,
                )
            ],
            now=moment,
        )
        decision = send_decision(facts, delivery.policy, moment)
        if isinstance(decision, Skip):
            uow.notifications.not_sent(
                note.id, status=decision.status, detail=decision.detail, now=moment
            )
            uow.commit()
            return "skipped", decision.detail
        if isinstance(decision, Defer):
            uow.notifications.defer(
                note.id, until=decision.until, detail=decision.detail, now=moment
            )
            uow.commit()
            return "deferred", decision.detail
        out = _outgoing(note, delivery)
        rules = KINDS[note.send_kind]
        # Every text keeps to the sender's shared rate; a page to staff waits for its
        # token like any text but, unlike a reminder, never gives up its turn for it.
        if out.is_sms and not take_token(delivery) and rules.yields_turn:
            uow.notifications.defer(
                note.id, until=moment, detail="no rate-limit token in time", now=moment
            )
            uow.commit()
            return "deferred", "no rate-limit token in time"
        attempt = uow.notifications.take_notification(
            note.id, now=moment, lease_until=moment + delivery.send_lease
        )
        uow.commit()
    if attempt is None:
        return "nothing", None
    try:
        sent = hand_over(out, delivery=delivery)
    except ProviderError as exc:
        return _failed(note, attempt, out, exc, uow=uow, delivery=delivery, now=now)
    return _sent(note, attempt, sent, uow=uow, now=now)


def _outgoing(note: OutgoingNote, delivery: Delivery) -> Outgoing:
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
    return Outgoing(note.send_kind, note.recipient, content, reference(note.id))


def reference(notification_id: int) -> str:
    """A notification's stable name at the provider (email Message-ID, outbox file)."""
    return f"rr-n{notification_id}"


def _sent(
    note: OutgoingNote, attempt: int, sent: Sent, *, uow: UnitOfWork, now: Callable[[], datetime]
) -> tuple[str, str | None]:
    with uow:
        won = uow.notifications.notification_sent(
            note.id, provider_id=sent.provider_id, attempt=attempt, now=now()
        )
        uow.commit()
    return ("sent" if won else "nothing"), None


def retry_at(note: OutgoingNote, error_class: ErrorClass, moment: datetime) -> datetime | None:
    """When a failed notification is tried again, by its kind's rule; None: it has failed."""
    if error_class is ErrorClass.PERMANENT:
        return None
    rule = KINDS[note.send_kind].retry
    if rule is Retry.FOR_A_DAY and moment - note.created_at < ALERT_GIVE_UP:
        return moment + retry_delay(note.attempts)
    if rule is Retry.UNTIL_DEADLINE and note.deadline is not None:
        when = moment + retry_delay(note.attempts)
        return when if when <= note.deadline else None
    return None


def _failed(
    note: OutgoingNote,
    attempt: int,
    out: Outgoing,
    exc: ProviderError,
    *,
    uow: UnitOfWork,
    delivery: Delivery,
    now: Callable[[], datetime],
) -> tuple[str, str | None]:
    slow_down(delivery, exc)
    with uow:
        moment = now()
        if exc.unknown:  # the provider may have it (a call placed, no answer): ask first
            uow.notifications.renew(
                note.id,
                attempt=attempt,
                now=moment,
                lease_until=moment + delivery.settle_after,
                error=exc.message,
            )
            uow.commit()
            log.warning("%s %s to %s: no answer; will ask", note.kind, note.id, masked(out))
            return "unknown", exc.message
        uow.notifications.notification_failed(
            note.id,
            attempt=attempt,
            code=exc.code,
            error_class=exc.error_class.value,
            error=exc.message,
            retry_at=retry_at(note, exc.error_class, moment),
            now=moment,
        )
        uow.commit()
    log.warning("%s %s to %s failed: %s", note.kind, note.id, masked(out), exc.message)
    return "failed", exc.message
