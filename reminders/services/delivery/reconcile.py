"""Settle outbound rows left `sending` (a dead worker, a call with no answer): ask the provider first.

Care messages and notifications alike: a row whose lease lapsed is confirmed if the
provider has it (a text in Twilio's message list, a call in its calls list), sent again
if the provider has no record of it and its kind may still be retried, failed otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from reminders.adapters.db.messages.message_repository import ASKING, Fence
from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.adapters.providers.ports import ProviderError
from reminders.domain.lifecycles.message import Reason
from reminders.domain.model import Channel, MessageStatus
from reminders.domain.outbound.retry import ErrorClass
from reminders.services.delivery.notifications import reference as note_reference
from reminders.services.delivery.notifications import retry_at
from reminders.services.delivery.outgoing import Delivery
from reminders.services.delivery.sending import reference

log = logging.getLogger("reminders.sending")


def reconcile_expired(
    *, uow: UnitOfWork, delivery: Delivery, now: Callable[[], datetime], limit: int = 200
) -> dict[str, int]:
    """Confirm with the provider what a dead worker sent; resend only what it has no record of."""
    counts = {"confirmed": 0, "resend": 0, "failed": 0, "unknown": 0}
    with uow:
        ids = uow.message_reads.expired_sending(now=now(), limit=limit)
    for mid in ids:
        with uow:
            due = uow.due.load(mid, now=now())
            if due is None or due.message.status is not MessageStatus.SENDING:
                continue
            m = due.message
            # Fenced on the attempt it read, and only while the lease stays lapsed: a worker
            # still sending it (its heartbeat renewed the lease) or a second reconciler
            # that settled it first wins, and this one records and counts nothing.
            fence = Fence(m.attempts, lapsed=True)
            asked = m.status_reason == ASKING
            provider = delivery.sms if m.channel is Channel.SMS else delivery.email
            to = due.patient.phone if m.channel is Channel.SMS else due.patient.email
            assert to is not None and m.last_attempt_at is not None
            try:
                matches = provider.find_sent(
                    to=to, body=m.body or "", reference=reference(mid), since=m.last_attempt_at
                )
            except ProviderError as exc:
                log.warning("cannot reconcile message %s yet: %s", mid, exc.message)
                counts["unknown"] += 1
                continue
            # Two messages can share a body (the same check-in question on two days):
            # only a provider message no other row already owns can be this one.
            taken = uow.message_reads.claimed_provider_ids([f.provider_id for f in matches])
            found = next((f for f in matches if f.provider_id not in taken), None)
            moment = now()
            what = m.error_message if asked and m.error_message else "the worker stopped mid-send"
            if found is not None:
                won = uow.messages.mark_sent(
                    mid,
                    now=moment,
                    provider_id=found.provider_id,
                    detail="confirmed with the provider after "
                    + ("no answer" if asked else "a worker stopped"),
                    fence=fence,
                )
                kind = "confirmed"
            elif moment <= m.deadline:
                won = uow.messages.retry(
                    mid,
                    now=moment,
                    send_at=moment,
                    code=None,
                    error_class="transient",
                    error=f"{what}; the provider has no record of it",
                    fence=fence,
                )
                kind = "resend"
            else:
                won = uow.messages.fail(
                    mid,
                    now=moment,
                    code=None,
                    error_class="transient",
                    error=what,
                    reason=Reason.STALE,
                    detail="stale before it could be resent",
                    fence=fence,
                )
                kind = "failed"
            counts[kind] += int(won)
            uow.commit()
    return counts


def reconcile_notifications(
    *, uow: UnitOfWork, delivery: Delivery, now: Callable[[], datetime], limit: int = 100
) -> dict[str, int]:
    """Pages, calls and reminders left `sending`: confirm what the provider took (a nurse
    is never called twice for one rung), send again only what it has no record of."""
    counts = {"confirmed": 0, "resend": 0, "failed": 0, "unknown": 0}
    with uow:
        stuck = uow.notifications.lapsed_sending(now=now(), limit=limit)
    for note in stuck:
        assert note.last_attempt_at is not None
        try:
            if note.channel == "voice":
                if delivery.voice is None:
                    matches = []
                else:
                    matches = delivery.voice.find_placed(
                        to=note.recipient,
                        reference=note_reference(note.id),
                        since=note.last_attempt_at,
                    )
            else:
                provider = delivery.sms if note.channel == "sms" else delivery.email
                matches = provider.find_sent(
                    to=note.recipient,
                    body=note.body,
                    reference=note_reference(note.id),
                    since=note.last_attempt_at,
                )
        except ProviderError as exc:
            log.warning("cannot reconcile notification %s yet: %s", note.id, exc.message)
            counts["unknown"] += 1
            continue
        with uow:
            taken = uow.notifications.claimed_provider_ids([m.provider_id for m in matches])
            taken |= uow.message_reads.claimed_provider_ids([m.provider_id for m in matches])
            found = next((m for m in matches if m.provider_id not in taken), None)
            moment = now()
            if found is not None:
                won = uow.notifications.notification_sent(
                    note.id, provider_id=found.provider_id, attempt=note.attempts, now=moment
                )
                kind = "confirmed"
            else:
                again = retry_at(note, ErrorClass.TRANSIENT, moment)
                won = uow.notifications.notification_failed(
                    note.id,
                    attempt=note.attempts,
                    code=None,
                    error_class=ErrorClass.TRANSIENT.value,
                    error="the worker stopped mid-send; the provider has no record of it",
                    retry_at=moment if again is not None else None,
                    now=moment,
                    lapsed=True,
                )
                kind = "resend" if again is not None else "failed"
            counts[kind] += int(won)
            uow.commit()
    return counts
