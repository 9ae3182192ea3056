"""The one send pipeline: every outgoing text and email is decided and handed over here.

Every kind of outgoing message is decided by domain/outbound/decisions.send_decision
from facts loaded by adapters/db/decision_facts.load_facts, then goes through
`hand_over` here (the sender's shared rate for texts, the provider call, a log line with
the recipient masked). What each records afterwards is a Move of the one outbound
lifecycle, in the table the message lives in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from reminders.adapters.care_plans import CarePlanLibrary
from reminders.adapters.providers.ports import (
    EmailProvider,
    ProviderError,
    Sent,
    SmsProvider,
    VoiceProvider,
)
from reminders.adapters.providers.rate_limit import ChunkLimiter, RateLimiter
from reminders.adapters.rendering import MessageRenderer, RenderedEmail
from reminders.domain.enrollment.contact import mask_email, mask_phone
from reminders.domain.outbound.decisions import Kind
from reminders.domain.outbound.retry import ErrorClass, RetryPolicy
from reminders.domain.planning.schedule import SchedulePolicy
from reminders.domain.planning.timing import QuietHours
from reminders.services.content import Clinic

log = logging.getLogger("reminders.sending")


@dataclass
class Delivery:
    """What sending needs, wired once by bootstrap."""

    sms: SmsProvider
    email: EmailProvider
    limiter: RateLimiter
    renderer: MessageRenderer
    plans: CarePlanLibrary
    clinic: Clinic
    policy: SchedulePolicy = field(default_factory=SchedulePolicy)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    send_lease: timedelta = timedelta(seconds=30)  # renewed every third of it while in flight
    queue_lease: timedelta = timedelta(seconds=30)  # renewed likewise while a task holds rows
    rate_wait: float = 20.0  # seconds a worker waits for a rate-limit token
    sms_rate: float = 1.0  # the sender's messages a second (sizes the chunks below)
    voice: VoiceProvider | None = None  # calls for unacknowledged red flags
    # A send whose outcome is unknown (no answer in time) stays `sending` this long, then
    # reconciliation asks the provider whether it took it: a late answer has time to land.
    settle_after: timedelta = timedelta(seconds=10)
    slow_down: float = 1.0  # seconds the sender pauses on a 429 or 5xx with no Retry-After

    @property
    def quiet_hours(self) -> QuietHours:
        return self.policy.quiet_hours

    @property
    def chunk_size(self) -> int:
        """Messages in flight together (one token call, one `sending` statement each)."""
        return window_for(self.sms_rate)


def window_for(rate: float) -> int:
    """Provider calls a worker process keeps in flight: a second of the sender's rate,
    1-64, so 100 ms of provider latency does not cap throughput and a slow sender (1 a
    second) never holds rows in `sending` waiting for their token. Also the bucket's burst.
    At least a task's batch (50 ids by default): a task's texts go out in one round."""
    return max(1, min(WINDOW_MAX, int(rate)))


WINDOW_MAX = 100


@dataclass(frozen=True)
class SpokenCall:
    """A voice call's TwiML (an on-call alert's last rung)."""

    twiml: str


@dataclass(frozen=True)
class Outgoing:
    """One message ready to hand over: to whom, what, and under which name at the provider."""

    kind: Kind
    to: str  # E.164 phone for a text, an address for an email
    content: str | RenderedEmail | SpokenCall  # the text, the rendered email, or a call
    reference: str  # a stable name at the provider (email Message-ID, outbox file)

    @property
    def is_sms(self) -> bool:
        return isinstance(self.content, str)

    @property
    def summary(self) -> str:
        """What the row records as having gone out: the text, or the email's subject."""
        if isinstance(self.content, SpokenCall):
            return "voice call"
        return self.content if isinstance(self.content, str) else self.content.subject


def take_token(delivery: Delivery) -> bool:
    """A rate-limit token for the sender; an unreachable limiter (Redis down) means none."""
    return take_tokens(delivery, 1) == 1


def take_tokens(delivery: Delivery, n: int) -> int:
    """Up to n tokens for the sender in one call (0: none in time, or Redis is down)."""
    limiter = delivery.limiter
    try:
        if isinstance(limiter, ChunkLimiter):
            return limiter.acquire_many(delivery.sms.sender, n, timeout=delivery.rate_wait)
        return int(limiter.acquire(delivery.sms.sender, timeout=delivery.rate_wait))
    except Exception as exc:  # redis errors, timeouts: send nothing rather than flood
        log.warning("rate limiter unavailable (%s); holding texts back", exc.__class__.__name__)
        return 0


def asked_pause(delivery: Delivery, exc: ProviderError) -> float | None:
    """Seconds the provider asked every sender to wait (Retry-After, or a moment on a 429 or
    5xx without one); None when the error does not concern the sender's pace."""
    if not exc.slows_the_sender:
        return None
    return exc.retry_after if exc.retry_after is not None else delivery.slow_down


def pause_sender(delivery: Delivery, seconds: float, why: object) -> None:
    """Every worker of this sender waits `seconds` from now."""
    limiter = delivery.limiter
    if seconds <= 0 or not isinstance(limiter, ChunkLimiter):
        return
    try:
        limiter.pause(delivery.sms.sender, seconds)
    except Exception as exc2:  # Redis down: the tokens are refused anyway
        log.warning("could not pause the sender (%s)", exc2.__class__.__name__)
    log.warning("provider asked to slow down (%s): sender paused %.1f s", why, seconds)


def slow_down(delivery: Delivery, exc: ProviderError) -> None:
    """The provider is overloaded (429, 5xx): every worker of this sender waits, for as
    long as it asked (Retry-After) or a moment, instead of each message on its own."""
    seconds = asked_pause(delivery, exc)
    if seconds is not None:
        pause_sender(delivery, seconds, exc.http_status)


def hand_over(message: Outgoing, *, delivery: Delivery, log_it: bool = True) -> Sent:
    """Call the provider (the caller took the sender's token for a text); log it masked
    (or leave that to the caller, which logs a chunk's calls in one line).

    Raises ProviderError; the caller records the outcome in its own table.
    """
    if isinstance(message.content, str):
        sent = delivery.sms.send_sms(
            to=message.to, body=message.content, reference=message.reference
        )
    elif isinstance(message.content, SpokenCall):
        if delivery.voice is None:
            raise ProviderError("no voice provider is configured", error_class=ErrorClass.PERMANENT)
        sent = delivery.voice.place_call(
            to=message.to, twiml=message.content.twiml, reference=message.reference
        )
    else:
        email = message.content
        sent = delivery.email.send_email(
            to=message.to,
            subject=email.subject,
            text=email.text,
            html=email.html,
            reference=message.reference,
        )
    if log_it:
        log.info("sent %s %s to %s", message.kind.value, message.reference, masked(message))
    return sent


def masked(message: Outgoing) -> str:
    return (
        mask_email(message.to)
        if isinstance(message.content, RenderedEmail)
        else mask_phone(message.to)
    )
