"""Send queued care messages: re-read them, decide, render, mark sending, hand over, record."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from jinja2 import TemplateError

from reminders.adapters.db.decision_facts import DueMessage
from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.adapters.providers.ports import ProviderError, Sent
from reminders.domain.lifecycles.message import Reason
from reminders.domain.model import Channel, MessageStatus, ProcedureRecord
from reminders.domain.outbound.decisions import Defer, Go, Kind, Skip, send_decision
from reminders.domain.outbound.retry import ErrorClass
from reminders.services.content import message_context
from reminders.services.delivery.in_flight import Call, hand_over_all
from reminders.services.delivery.outgoing import (
    Delivery,
    Outgoing,
    asked_pause,
    pause_sender,
    take_tokens,
)
from reminders.services.delivery.send_failures import Outcome, record_failure

log = logging.getLogger("reminders.sending")


def reference(message_id: int) -> str:
    """A stable name for a message at the provider (email Message-ID, outbox file)."""
    return f"rr-{message_id}"


def send_message(
    message_id: int, *, uow: UnitOfWork, delivery: Delivery, now: Callable[[], datetime]
) -> Outcome:
    """Deliver one queued message; safe to call twice (the second call does nothing)."""
    return send_messages([message_id], uow=uow, delivery=delivery, now=now)[message_id]


def send_messages(
    message_ids: Sequence[int], *, uow: UnitOfWork, delivery: Delivery, now: Callable[[], datetime]
) -> dict[int, Outcome]:
    """Deliver a batch of queued messages, each at most once per attempt.

    One read and one transaction decide the batch. Then chunk by chunk (a window of the
    sender's rate): one call takes the chunk's rate-limit tokens, one statement marks
    it `sending` (each row's attempt number is its fence) right before its provider
    calls, which run side by side in a bounded pool while their leases are renewed, and
    one statement records what went out. A worker that dies leaves rows `sending` with a
    lease that lapses; a call with no answer leaves its row `sending` for a moment:
    either way reconciliation asks the provider before anything is resent.
    """
    outcomes: dict[int, Outcome] = {mid: Outcome.NOTHING for mid in message_ids}
    with uow:
        moment = now()
        ready = _decide_all(
            uow.due.load_many(list(message_ids), now=moment), uow, delivery, moment, outcomes
        )
        uow.commit()
    pending: list[tuple[int, int, str]] = []  # (id, attempt, provider id): record with the next
    held = time.monotonic()  # when the queue leases of our rows were last renewed
    while ready:
        chunk = ready[: delivery.chunk_size]
        texts = sum(1 for _, out in chunk if out.is_sms)
        granted = take_tokens(delivery, texts) if texts else 0
        if texts and not granted:
            _hold_back(uow, ready, pending, outcomes, now)
            return outcomes
        chunk = _within(chunk, granted) if texts else chunk
        ready = ready[len(chunk) :]
        with uow:
            _record_sent(uow, pending, outcomes, now())
            pending = []
            moment = now()
            if time.monotonic() - held > delivery.queue_lease.total_seconds() / 3:
                # Still working through the batch: keep the rest ours, or dispatch would
                # hand them to another worker as if the broker had lost them.
                rest = [mid for mid, _ in ready]
                uow.messages.hold_queued(
                    rest, now=moment, lease_until=moment + delivery.queue_lease
                )
                held = time.monotonic()
            stamped = time.monotonic()  # the lease runs from (at the latest) this moment
            won = uow.messages.mark_sending_many(
                [(mid, out.summary) for mid, out in chunk],
                now=moment,
                lease_until=moment + delivery.send_lease,
            )
            uow.commit()
        calls = [(mid, won[mid], out) for mid, out in chunk if mid in won]
        if calls and not lease_live(stamped, delivery):
            _give_back(uow, calls, ready, pending, outcomes, now)
            return outcomes
        answers = hand_over_all(calls, uow, delivery, now)
        left = _pause_once(answers, delivery)
        for (mid, attempt, out), result, _ in answers:
            if isinstance(result, Sent):
                pending.append((mid, attempt, result.provider_id))
            else:
                outcomes[mid] = record_failure(
                    mid, attempt, out, result, uow=uow, delivery=delivery, now=now, pause_left=left
                )
    if pending:
        with uow:
            _record_sent(uow, pending, outcomes, now())
            uow.commit()
    return outcomes


def lease_live(stamped: float, delivery: Delivery) -> bool:
    """Whether this worker can still show the lease it stamped (time.monotonic() taken before
    the statement that stamped it): half of it must be left for the call to begin before a
    reconciler may take the row. A stalled worker (paused process, slow commit, frozen
    database) gives the rows back instead of calling on a lapsed lease."""
    return time.monotonic() - stamped < delivery.send_lease.total_seconds() / 2


def _give_back(
    uow: UnitOfWork,
    calls: list[Call],
    ready: list[tuple[int, Outgoing]],
    pending: list[tuple[int, int, str]],
    outcomes: dict[int, Outcome],
    now: Callable[[], datetime],
) -> None:
    log.warning("lease of %d messages lapsed before the call; giving them back", len(calls))
    with uow:
        uow.messages.give_back([(mid, attempt) for mid, attempt, _ in calls], now=now())
        uow.commit()
    for mid, _, _ in calls:
        outcomes[mid] = Outcome.DEFERRED
    _hold_back(uow, ready, pending, outcomes, now)


def _pause_once(
    answers: list[tuple[Call, Sent | ProviderError, float]], delivery: Delivery
) -> float:
    """Pause the sender once for the chunk, until the latest end the provider asked for,
    each counted from when its answer arrived; the seconds of it still to run."""
    ends = [
        arrived + asked
        for _, result, arrived in answers
        if isinstance(result, ProviderError)
        and (asked := asked_pause(delivery, result)) is not None
    ]
    if not ends:
        return 0.0
    left = max(ends) - time.monotonic()
    statuses = sorted(
        {r.http_status for _, r, _ in answers if isinstance(r, ProviderError)}, key=str
    )
    pause_sender(delivery, left, "/".join(map(str, statuses)))
    return max(left, 0.0)


def _within(chunk: list[tuple[int, Outgoing]], tokens: int) -> list[tuple[int, Outgoing]]:
    """The longest head of the chunk with no more texts than tokens granted."""
    for n, (_, out) in enumerate(chunk):
        if out.is_sms:
            tokens -= 1
            if tokens < 0:
                return chunk[:n]
    return chunk


def _record_sent(
    uow: UnitOfWork,
    sent: list[tuple[int, int, str]],
    outcomes: dict[int, Outcome],
    moment: datetime,
) -> None:
    """Record provider ids; a row another attempt settled meanwhile stays as that one left it."""
    if not sent:
        return
    recorded = uow.messages.mark_sent_many(sent, now=moment)
    for mid, _, _ in sent:
        outcomes[mid] = Outcome.SENT if mid in recorded else Outcome.NOTHING


def _decide_all(
    batch: list[DueMessage],
    uow: UnitOfWork,
    delivery: Delivery,
    moment: datetime,
    outcomes: dict[int, Outcome],
) -> list[tuple[int, Outgoing]]:
    """Decide each queued message in order; record skips and deferrals; render the rest."""
    ready: list[tuple[int, Outgoing]] = []
    going: dict[str, list[datetime]] = {}  # texts of this batch to each phone, as decided
    for due in batch:
        m = due.message
        if m.status is not MessageStatus.QUEUED:
            continue  # already handled elsewhere: a duplicate task
        phone = due.recipient.phone or ""
        decision = _decide(due, delivery, moment, tuple(going.get(phone, ())))
        if isinstance(decision, Skip):
            uow.messages.not_sent(
                due.id,
                now=moment,
                status=decision.status,
                reason=decision.reason,
                detail=decision.detail,
            )
            outcomes[due.id] = Outcome.SKIPPED
            continue
        if isinstance(decision, Defer):
            uow.messages.defer(
                due.id,
                now=moment,
                send_at=decision.until,
                reason=decision.reason,
                detail=decision.detail,
            )
            outcomes[due.id] = Outcome.DEFERRED
            if m.channel is Channel.SMS:
                going.setdefault(phone, []).append(decision.until)
            continue
        try:
            ready.append((due.id, _outgoing(due, delivery)))
        except (TemplateError, KeyError) as exc:
            uow.messages.fail(
                due.id,
                now=moment,
                code=None,
                error=f"template error: {exc}",
                error_class=ErrorClass.PERMANENT,
                reason=Reason.TEMPLATE_ERROR,
                detail="could not be written; fix the template",
            )
            outcomes[due.id] = Outcome.FAILED
            continue
        if m.channel is Channel.SMS:
            going.setdefault(phone, []).append(moment)
    return ready


def _decide(
    due: DueMessage, delivery: Delivery, moment: datetime, batch_texts: tuple[datetime, ...]
) -> Go | Skip | Defer:
    return send_decision(due.facts.with_texts(batch_texts), delivery.policy, moment)


def _outgoing(due: DueMessage, delivery: Delivery) -> Outgoing:
    plan = delivery.plans.get(due.procedure)
    procedure = ProcedureRecord(due.procedure, due.performed_at, due.levels, due.overnight)
    to = due.recipient  # the patient, or the caregiver for a caregiver's row
    context = message_context(
        plan=plan,
        patient=due.patient,
        procedure=procedure,
        clinic=delivery.clinic,
        caregiver=due.caregiver if due.to_caregiver else None,
    )
    m, lang = due.message, to.language
    kind = Kind(m.kind)
    if m.channel is Channel.SMS:
        if not to.phone:
            raise KeyError("the recipient has no phone")
        text = delivery.renderer.sms(plan.procedure, lang, m.parts, context, first=m.first_sms)
        return Outgoing(kind, to.phone, text, reference(due.id))
    if not to.email:
        raise KeyError("the recipient has no email address")
    email = delivery.renderer.email(plan.procedure, lang, m.parts, context)
    return Outgoing(kind, to.email, email, reference(due.id))


def _hold_back(
    uow: UnitOfWork,
    unmarked: list[tuple[int, Outgoing]],
    pending: list[tuple[int, int, str]],
    outcomes: dict[int, Outcome],
    now: Callable[[], datetime],
) -> None:
    """No rate-limit token in time: what was not sent goes back for the next dispatch."""
    with uow:
        _record_sent(uow, pending, outcomes, now())
        moment = now()
        uow.messages.hold_queued([mid for mid, _ in unmarked], now=moment, lease_until=moment)
        for mid, _ in unmarked:
            outcomes[mid] = Outcome.DEFERRED
        uow.commit()
