"""Send one message: re-read it, decide, render, mark sending, call the provider, record."""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from jinja2 import TemplateError

from reminders.adapters.care_plans import CarePlanLibrary
from reminders.adapters.delivery_repository import SendContext
from reminders.adapters.providers import EmailProvider, ProviderError, Sent, SmsProvider
from reminders.adapters.rate_limit import RateLimiter
from reminders.adapters.rendering import MessageRenderer, RenderedEmail
from reminders.adapters.unit_of_work import UnitOfWork
from reminders.domain.contact import mask_email, mask_phone
from reminders.domain.delivery import ErrorClass, RetryPolicy
from reminders.domain.model import Channel, MessageStatus, ProcedureRecord
from reminders.domain.timing import QuietHours, zone_named
from reminders.services.content import Clinic, message_context

log = logging.getLogger("reminders.sending")


class Outcome(enum.StrEnum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    SKIPPED = "skipped"  # cancelled, opted out, no consent, stale
    DEFERRED = "deferred"  # quiet hours, or no rate-limit token in time
    NOTHING = "nothing"  # already handled elsewhere: a duplicate task


@dataclass
class Delivery:
    """What sending needs, wired once by bootstrap."""

    sms: SmsProvider
    email: EmailProvider
    limiter: RateLimiter
    renderer: MessageRenderer
    plans: CarePlanLibrary
    clinic: Clinic
    quiet_hours: QuietHours = field(default_factory=QuietHours)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    send_lease: timedelta = timedelta(minutes=2)
    rate_wait: float = 20.0  # seconds a worker waits for a rate-limit token
    sms_rate: float = 1.0  # the sender's messages a second (sizes the chunks below)

    @property
    def chunk_size(self) -> int:
        """Messages marked `sending` together: about two seconds of the sender's rate, 1-10.

        One transaction per chunk instead of per message; a slow sender keeps chunks
        small so no row waits long in `sending` for its rate-limit token.
        """
        return max(1, min(10, int(self.sms_rate * 2)))


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

    One read for the batch; then, per message: a rate-limit token, one transaction that
    marks it `sending` (and the previous one `sent`), the provider call. A message is
    `sending` across its provider call and until the next message's transaction, inside
    its lease: if the worker dies there, reconciliation asks the provider before any resend.
    """
    outcomes: dict[int, Outcome] = {mid: Outcome.NOTHING for mid in message_ids}
    ready: list[tuple[SendContext, str | RenderedEmail]] = []
    with uow:
        moment = now()
        for ctx in uow.delivery.load_many(list(message_ids)):
            mid = ctx.message.id
            assert mid is not None
            if ctx.message.status is not MessageStatus.QUEUED:
                continue  # already handled elsewhere: a duplicate task
            decision = _decide(ctx, delivery, moment)
            if decision is not None:
                outcomes[mid], apply = decision
                apply(uow)
                continue
            try:
                ready.append((ctx, _render(ctx, delivery)))
            except (TemplateError, KeyError) as exc:
                uow.delivery.mark_failed(
                    mid,
                    now=moment,
                    code=None,
                    error=f"template error: {exc}",
                    error_class=ErrorClass.PERMANENT,
                    reason="could not be written; fix the template",
                )
                outcomes[mid] = Outcome.FAILED
        uow.commit()

    pending: list[tuple[int, str]] = []  # sent; recorded with the next transaction
    size = delivery.chunk_size
    for start in range(0, len(ready), size):
        chunk = ready[start : start + size]
        with uow:  # one transaction marks the chunk sending and records the last one sent
            _flush_sent(uow, pending, now)
            pending = []
            moment = now()
            taken = [
                (ctx, rendered)
                for ctx, rendered in chunk
                if uow.delivery.mark_sending(
                    _id(ctx),
                    now=moment,
                    lease_until=moment + delivery.send_lease,
                    body=rendered if isinstance(rendered, str) else rendered.subject,
                )  # not taken: cancelled or handled elsewhere since the batch was read
            ]
            uow.commit()
        for n, (ctx, rendered) in enumerate(taken):
            mid = _id(ctx)
            if ctx.message.channel is Channel.SMS and not _token(delivery):
                _hold_back(uow, taken[n:], ready[start + size :], pending, outcomes, now)
                return outcomes
            try:
                sent = _call_provider(ctx, rendered, delivery)
            except ProviderError as exc:
                outcomes[mid] = _record_failure(ctx, exc, uow=uow, delivery=delivery, now=now)
                continue
            pending.append((mid, sent.provider_id))
            outcomes[mid] = Outcome.SENT
            log.info("sent message %s (%s) to %s", mid, ctx.message.channel, _masked(ctx))
    if pending:
        with uow:
            _flush_sent(uow, pending, now)
            uow.commit()
    return outcomes


def _token(delivery: Delivery) -> bool:
    """A rate-limit token for the sender; an unreachable limiter (Redis down) means none."""
    try:
        return delivery.limiter.acquire(delivery.sms.sender, timeout=delivery.rate_wait)
    except Exception as exc:  # redis errors, timeouts: send nothing rather than flood
        log.warning("rate limiter unavailable (%s); holding texts back", exc)
        return False


def _id(ctx: SendContext) -> int:
    assert ctx.message.id is not None
    return ctx.message.id


def _flush_sent(uow: UnitOfWork, sent: list[tuple[int, str]], now: Callable[[], datetime]) -> None:
    if sent:
        uow.delivery.mark_sent_many(sent, now=now())


def _hold_back(
    uow: UnitOfWork,
    marked: list[tuple[SendContext, str | RenderedEmail]],
    unmarked: list[tuple[SendContext, str | RenderedEmail]],
    pending: list[tuple[int, str]],
    outcomes: dict[int, Outcome],
    now: Callable[[], datetime],
) -> None:
    """No rate-limit token in time: what was not sent goes back for the next dispatch."""
    with uow:
        _flush_sent(uow, pending, now)
        moment = now()
        for ctx, _ in marked:  # marked sending, never handed to the provider
            uow.delivery.unmark_sending(_id(ctx), now=moment)
            outcomes[_id(ctx)] = Outcome.DEFERRED
        for ctx, _ in unmarked:
            uow.delivery.release(_id(ctx), now=moment)
            outcomes[_id(ctx)] = Outcome.DEFERRED
        uow.commit()


Decision = tuple[Outcome, Callable[[UnitOfWork], object]]


def _decide(ctx: SendContext, delivery: Delivery, moment: datetime) -> Decision | None:
    """Return why not to send now (and what to record), or None to go ahead."""
    m = ctx.message
    mid = m.id
    assert mid is not None

    def not_sent(status: MessageStatus, reason: str) -> Decision:
        outcome = Outcome.SKIPPED
        return outcome, lambda u: u.delivery.mark_not_sent(
            mid, now=moment, status=status, reason=reason
        )

    if ctx.enrollment_status != "active":
        return not_sent(MessageStatus.CANCELLED, "enrollment cancelled")
    if ctx.opted_out:
        return not_sent(MessageStatus.CANCELLED, "patient opted out of SMS")
    if not ctx.consent_given:
        return not_sent(MessageStatus.SKIPPED, f"no consent to {m.channel}")
    if moment > m.deadline:
        return not_sent(MessageStatus.SKIPPED, "stale: its deadline passed before it could go")
    zone = zone_named(ctx.patient.timezone)
    if not delivery.quiet_hours.allows(moment, zone):
        later = delivery.quiet_hours.next_allowed(moment, zone)
        if later > m.deadline:
            return not_sent(MessageStatus.SKIPPED, "stale: quiet hours until past its deadline")
        return Outcome.DEFERRED, lambda u: u.delivery.defer(
            mid, now=moment, send_at=later, reason="waiting for the patient's morning"
        )
    return None


def _render(ctx: SendContext, delivery: Delivery) -> str | RenderedEmail:
    plan = delivery.plans.get(ctx.procedure)
    procedure = ProcedureRecord(ctx.procedure, ctx.performed_at, ctx.levels, ctx.overnight)
    context = message_context(
        plan=plan, patient=ctx.patient, procedure=procedure, clinic=delivery.clinic
    )
    m = ctx.message
    if m.channel is Channel.SMS:
        return delivery.renderer.sms(
            plan.procedure, ctx.patient.language, m.parts, context, first=m.first_sms
        )
    return delivery.renderer.email(plan.procedure, ctx.patient.language, m.parts, context)


def _call_provider(ctx: SendContext, rendered: str | RenderedEmail, delivery: Delivery) -> Sent:
    m = ctx.message
    assert m.id is not None
    if isinstance(rendered, str):
        assert ctx.patient.phone
        return delivery.sms.send_sms(to=ctx.patient.phone, body=rendered, reference=reference(m.id))
    assert ctx.patient.email
    return delivery.email.send_email(
        to=ctx.patient.email,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        reference=reference(m.id),
    )


def _record_failure(
    ctx: SendContext,
    exc: ProviderError,
    *,
    uow: UnitOfWork,
    delivery: Delivery,
    now: Callable[[], datetime],
) -> Outcome:
    m = ctx.message
    assert m.id is not None
    attempts = m.attempts + 1
    code, error, cls = exc.code, exc.message, exc.error_class.value
    with uow:
        moment = now()
        retry_at = None
        if exc.error_class is ErrorClass.TRANSIENT:
            retry_at = delivery.retry.next_attempt(
                attempt=attempts,
                now=moment,
                deadline=m.deadline,
                quiet_hours=delivery.quiet_hours,
                zone=zone_named(ctx.patient.timezone),
            )
        if retry_at is not None:
            uow.delivery.mark_retry(
                m.id, now=moment, send_at=retry_at, code=code, error=error, error_class=cls
            )
            outcome = Outcome.RETRY
        else:
            if exc.error_class is ErrorClass.OPTED_OUT:
                reason = "the patient opted out (the carrier refused the text)"
            elif exc.error_class is ErrorClass.TRANSIENT:
                reason = f"gave up after {attempts} attempt(s): its deadline passed"
            else:
                reason = "the provider refused it"
            uow.delivery.mark_failed(
                m.id, now=moment, code=code, error=error, error_class=cls, reason=reason
            )
            if exc.error_class is ErrorClass.OPTED_OUT and ctx.patient.phone:
                uow.delivery.opt_out(
                    ctx.patient.phone, source="carrier_21610", detail=error, now=moment
                )
            outcome = Outcome.FAILED
        uow.commit()
    log.warning("message %s to %s: %s (%s, %s)", m.id, _masked(ctx), outcome, exc.code, exc.message)
    return outcome


def reconcile_expired(
    *, uow: UnitOfWork, delivery: Delivery, now: Callable[[], datetime], limit: int = 200
) -> dict[str, int]:
    """Settle messages left `sending` by a worker that died: ask the provider before resending."""
    counts = {"confirmed": 0, "resend": 0, "failed": 0, "unknown": 0}
    with uow:
        ids = uow.delivery.expired_sending(now=now(), limit=limit)
    for mid in ids:
        with uow:
            ctx = uow.delivery.load(mid)
            if ctx is None or ctx.message.status is not MessageStatus.SENDING:
                continue
            m = ctx.message
            provider = delivery.sms if m.channel is Channel.SMS else delivery.email
            to = ctx.patient.phone if m.channel is Channel.SMS else ctx.patient.email
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
            taken = uow.delivery.claimed_provider_ids([f.provider_id for f in matches])
            found = next((f for f in matches if f.provider_id not in taken), None)
            moment = now()
            if found is not None:
                uow.delivery.mark_sent(
                    mid,
                    now=moment,
                    provider_id=found.provider_id,
                    reason="confirmed with the provider after a worker stopped",
                )
                counts["confirmed"] += 1
            elif moment <= m.deadline:
                uow.delivery.mark_retry(
                    mid,
                    now=moment,
                    send_at=moment,
                    code=None,
                    error_class="transient",
                    error="the worker stopped mid-send and the provider has no record of it",
                )
                counts["resend"] += 1
            else:
                uow.delivery.mark_failed(
                    mid,
                    now=moment,
                    code=None,
                    error_class="transient",
                    error="the worker stopped mid-send",
                    reason="stale before it could be resent",
                )
                counts["failed"] += 1
            uow.commit()
    return counts


def _masked(ctx: SendContext) -> str:
    if ctx.message.channel is Channel.SMS:
        return mask_phone(ctx.patient.phone)
    return mask_email(ctx.patient.email)
