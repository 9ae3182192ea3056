"""Provider ports: what sending needs from an SMS or email service, and how they fail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from reminders.domain.outbound.retry import ErrorClass, classify


@dataclass(frozen=True)
class Sent:
    provider_id: str
    status: str = "sent"  # the provider's word: queued, accepted, sent, delivered


class ProviderError(Exception):
    """A send that did not go through, with the provider's code and our class for it."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        http_status: int | None = None,
        error_class: ErrorClass | None = None,
        unknown: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status
        self.error_class = error_class or classify(code=code, http_status=http_status)
        # The request may have reached the provider (a read timeout, a connection reset
        # after sending): only asking the provider can tell whether it took the message.
        self.unknown = unknown
        # Seconds the provider asked every sender to wait (Retry-After on a 429 or 503).
        self.retry_after = retry_after

    @property
    def slows_the_sender(self) -> bool:
        """A 429 or a 5xx: the provider is overloaded, so every message should wait."""
        return self.http_status is not None and (self.http_status == 429 or self.http_status >= 500)


class SmsProvider(Protocol):
    sender: str  # the From number or Messaging Service SID: the rate limit's key

    def send_sms(self, *, to: str, body: str, reference: str) -> Sent: ...

    def find_sent(self, *, to: str, body: str, reference: str, since: datetime) -> list[Sent]:
        """Every message the provider took to `to` with this body since then (after a crash).

        More than one can match (two check-ins ask the same question); the caller takes
        one that no other message has claimed."""
        ...


class EmailProvider(Protocol):
    def send_email(
        self, *, to: str, subject: str, text: str, html: str, reference: str
    ) -> Sent: ...

    def find_sent(self, *, to: str, body: str, reference: str, since: datetime) -> list[Sent]: ...


class VoiceProvider(Protocol):
    """Places a phone call that speaks TwiML (on-call alerts only; never PHI)."""

    def place_call(self, *, to: str, twiml: str, reference: str) -> Sent: ...

    def find_placed(self, *, to: str, reference: str, since: datetime) -> list[Sent]:
        """Calls the provider placed to `to` since then (after a crash or a timeout), so
        a rung's call is never placed twice."""
        ...
