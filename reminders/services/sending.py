"""Send queued care messages: re-read them, decide, render, mark sending, hand over, record."""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from jinja2 import TemplateError

from reminders.adapters.due_messages import DueMessage
from reminders.adapters.providers import ProviderError
from reminders.adapters.unit_of_work import UnitOfWork
from reminders.domain.decisions import Defer, Go, Kind, Skip
from reminders.domain.delivery import Reason
from reminders.domain.model import Channel, MessageStatus, ProcedureRecord
from reminders.domain.retry import ErrorClass
from reminders.domain.timing import zone_named
from reminders.services.content import message_context
from reminders.services.opt_outs import opt_out
from reminders.services.outgoing import (
    Delivery,
    Outgoing,
    decide,
    hand_over,
    masked,
    take_token,
)

log = logging.getLogger("reminders.sending")


class Outcome(enum.StrEnum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    SKIPPED = "skipped"  # cancelled, opted out, no consent, stale, no room under the cap
    DEFERRED = "deferred"  # quiet hours, the SMS cap, or no rate-limit token in time
    NOTHING = "nothing"  # already handled elsewhere: a duplicate task


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

    One read for the batch and one transaction for every decision; then, per chunk, one
    transaction that marks it `sending` (and records the previous chunk `sent`), and per
    message a rate-limit token and the provider call. A message is `sending` across its
    provider call inside its lease: if the worker dies there, reconciliation asks the
    provider before any resend.
    """
    outcomes: dict[int, Outcome] = {mid: Outcome.NOTHING for mid in message_ids}
    with uow:
        moment = now()
        ready = _decide_all(
            uow.due.load_many(list(message_ids), now=moment), uow, delivery, moment, outcomes
        )
        uow.commit()

    pending: list[tuple[int, str]] = []  # sent; recorded with the next transaction
    size = delivery.chunk_size
    for start in range(0, len(ready), size):
        chunk = ready[start : start + size]
        with uow:
            if pending:
                uow.messages.mark_sent_many(pending, now=now())
                pending = []
            moment = now()
            lease = moment + delivery.send_lease
            taken = [  # not taken: cancelled or handled elsewhere since the batch was read
                (mid, out)
                for mid, out in chunk
                if uow.messages.mark_sending(mid, now=moment, lease_until=lease, body=out.summary)
            ]
            uow.commit()
        for n, (mid, out) in enumerate(taken):
            if out.is_sms and not take_token(delivery):
                _hold_back(uow, taken[n:], ready[start + size :], pending, outcomes, now)
                return outcomes
            try:
                sent = hand_over(out, delivery=delivery)
            except ProviderError as exc:
                outcomes[mid] = _record_failure(mid, out, exc, uow=uow, delivery=delivery, now=now)
                continue
            pending.append((mid, sent.provider_id))
            outcomes[mid] = Outcome.SENT
    if pending:
        with uow:
            uow.messages.mark_sent_many(pending, now=now())
            uow.commit()
    return outcomes


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
        phone = due.patient.phone or ""
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
    m = due.message
    return decide(
        Kind(m.kind),
        delivery=delivery,
        is_sms=m.channel is Channel.SMS,
        deadline=m.deadline,
        timezone=due.patient.timezone,
        now=moment,
        enrollment_active=due.enrollment_status == "active",
        consent_given=due.consent_given,
        opted_out=due.opted_out,
        cap_lifted=due.cap_lifted,
        other_texts=due.other_texts + batch_texts,
    )


def _outgoing(due: DueMessage, delivery: Delivery) -> Outgoing:
    plan = delivery.plans.get(due.procedure)
    procedure = ProcedureRecord(due.procedure, due.performed_at, due.levels, due.overnight)
    context = message_context(
        plan=plan, patient=due.patient, procedure=procedure, clinic=delivery.clinic
    )
    m, lang = due.message, due.patient.language
    kind = Kind(m.kind)
    if m.channel is Channel.SMS:
        assert due.patient.phone
        text = delivery.renderer.sms(plan.procedure, lang, m.parts, context, first=m.first_sms)
        return Outgoing(kind, due.patient.phone, text, reference(due.id))
    assert due.patient.email
    email = delivery.renderer.email(plan.procedure, lang, m.parts, context)
    return Outgoing(kind, due.patient.email, email, reference(due.id))


def _hold_back(
    uow: UnitOfWork,
    marked: list[tuple[int, Outgoing]],
    unmarked: list[tuple[int, Outgoing]],
    pending: list[tuple[int, str]],
    outcomes: dict[int, Outcome],
    now: Callable[[], datetime],
) -> None:
    """No rate-limit token in time: what was not sent goes back for the next dispatch."""
    with uow:
        if pending:
            uow.messages.mark_sent_many(pending, now=now())
        moment = now()
        for mid, _ in marked:  # marked sending, never handed to the provider
            uow.messages.unmark_sending(mid, now=moment)
            outcomes[mid] = Outcome.DEFERRED
        for mid, _ in unmarked:
            uow.messages.release(mid, now=moment)
            outcomes[mid] = Outcome.DEFERRED
        uow.commit()


def _record_failure(
    message_id: int,
    out: Outgoing,
    exc: ProviderError,
    *,
    uow: UnitOfWork,
    delivery: Delivery,
    now: Callable[[], datetime],
) -> Outcome:
    code, error, cls = exc.code, exc.message, exc.error_class.value
    with uow:
        moment = now()
        due = uow.due.load(message_id, now=moment)
        assert due is not None
        m = due.message
        retry_at = None
        if exc.error_class is ErrorClass.TRANSIENT:
            retry_at = delivery.retry.next_attempt(
                attempt=m.attempts,
                now=moment,
                deadline=m.deadline,
                quiet_hours=delivery.quiet_hours,
                zone=zone_named(due.patient.timezone),
            )
        if retry_at is not None:
            uow.messages.retry(
                message_id, now=moment, send_at=retry_at, code=code, error=error, error_class=cls
            )
            outcome = Outcome.RETRY
        else:
            if exc.error_class is ErrorClass.OPTED_OUT:
                reason, detail = (
                    Reason.OPTED_OUT,
                    "the patient opted out (the carrier refused the text)",
                )
            elif exc.error_class is ErrorClass.TRANSIENT:
                reason, detail = (
                    Reason.STALE,
                    f"gave up after {m.attempts} attempt(s): its deadline passed",
                )
            else:
                reason, detail = Reason.PROVIDER_REFUSED, "the provider refused it"
            uow.messages.fail(
                message_id,
                now=moment,
                code=code,
                error=error,
                error_class=cls,
                reason=reason,
                detail=detail,
            )
            if exc.error_class is ErrorClass.OPTED_OUT and due.patient.phone:
                opt_out(uow, due.patient.phone, source="carrier_21610", detail=error, now=moment)
            outcome = Outcome.FAILED
        uow.commit()
    log.warning("message %s to %s: %s (%s, %s)", message_id, masked(out), outcome, code, error)
    return outcome
