"""Retry rules: which provider errors are worth retrying, and when the next try may be."""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from reminders.domain.planning.timing import QuietHours


class ErrorClass(enum.StrEnum):
    TRANSIENT = "transient"  # try again later, before the message's deadline
    PERMANENT = "permanent"  # this message cannot be delivered; staff see it
    OPTED_OUT = "opted_out"  # the carrier says the patient opted out: stop all SMS


# docs/rules.md, rule 4. Twilio error codes: 30003 unreachable handset, 30008 unknown error
# (both often pass); 21211 invalid To number, 21614 not a mobile number, 30005 unknown
# destination, 30006 landline or unreachable carrier; 21610 the recipient replied STOP.
TRANSIENT_CODES = frozenset({"30003", "30008", "20429", "20500", "20503"})
PERMANENT_CODES = frozenset({"21211", "21614", "30005", "30006", "21408", "21612", "30004"})
OPTED_OUT_CODES = frozenset({"21610"})


def classify(*, code: str | int | None = None, http_status: int | None = None) -> ErrorClass:
    """Classify a provider failure; unknown errors count as transient until the deadline."""
    text = str(code) if code is not None else None
    if text in OPTED_OUT_CODES:
        return ErrorClass.OPTED_OUT
    if text in PERMANENT_CODES:
        return ErrorClass.PERMANENT
    if text in TRANSIENT_CODES:
        return ErrorClass.TRANSIENT
    if http_status is not None:
        if http_status == 429 or http_status >= 500:
            return ErrorClass.TRANSIENT
        if http_status in (400, 404, 422):
            return ErrorClass.PERMANENT  # the request itself is wrong: retrying cannot help
        if http_status in (401, 403):
            return ErrorClass.TRANSIENT  # our credentials: an operator can fix them in time
    return ErrorClass.TRANSIENT


@dataclass(frozen=True)
class RetryPolicy:
    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)

    def next_attempt(
        self,
        *,
        attempt: int,
        now: datetime,
        deadline: datetime,
        quiet_hours: QuietHours,
        zone: ZoneInfo,
        rng: random.Random | None = None,
    ) -> datetime | None:
        """Return when to try again after `attempt` failures, or None if the deadline forbids.

        Exponential backoff with full jitter (a random delay up to the exponential
        bound), never inside quiet hours, never after the deadline.
        """
        bound = min(self.cap, self.base * (2 ** max(attempt - 1, 0)))
        delay = bound * (rng or random).uniform(0.5, 1.0)
        when = quiet_hours.next_allowed(now + delay, zone)
        return when if when <= deadline else None


ALERT_GIVE_UP = timedelta(hours=24)  # an alert to staff is retried this long, unless permanent


def retry_delay(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Backoff for a failed alert: 30 s doubling to 10 min, with jitter."""
    bound = min(timedelta(minutes=10), timedelta(seconds=30) * 2 ** max(attempts - 1, 0))
    return bound * (rng or random).uniform(0.5, 1.0)
