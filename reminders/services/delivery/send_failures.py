"""What a failed provider call leaves: a retry, a failure, or a question for reconciliation."""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from reminders.adapters.db.messages.message_repository import Fence
from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.adapters.providers.ports import ProviderError
from reminders.domain.lifecycles.message import Reason
from reminders.domain.outbound.retry import ErrorClass
from reminders.domain.planning.timing import zone_named
from reminders.services.delivery.opt_outs import opt_out
from reminders.services.delivery.outgoing import Delivery, Outgoing, masked

log = logging.getLogger("reminders.sending")


class Outcome(enum.StrEnum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    SKIPPED = "skipped"  # cancelled, opted out, no consent, stale, no room under the cap
    DEFERRED = "deferred"  # quiet hours, the SMS cap, or no rate-limit token in time
    NOTHING = "nothing"  # already handled elsewhere: a duplicate task
    UNKNOWN = "unknown"  # no answer: reconciliation asks the provider before any resend


def record_failure(
    message_id: int,
    attempt: int,
    out: Outgoing,
    exc: ProviderError,
    *,
    uow: UnitOfWork,
    delivery: Delivery,
    now: Callable[[], datetime],
    pause_left: float,
) -> Outcome:
    """Record how a call failed. `pause_left`: seconds still to run of the pause the provider
    asked for, counted once for the chunk from when its answer arrived (the caller paused the
    sender); a throttled text goes again right after it."""
    code, error, cls = exc.code, exc.message, exc.error_class.value
    fence = Fence(attempt)
    with uow:
        moment = now()
        if exc.unknown:  # the provider may have it: ask before any resend, like a crash
            won = uow.messages.outcome_unknown(
                message_id,
                now=moment,
                attempt=attempt,
                lease_until=moment + delivery.settle_after,
                error=error,
            )
            uow.commit()
            log.warning(
                "message %s to %s: no answer (%s); will ask", message_id, masked(out), error
            )
            return Outcome.UNKNOWN if won else Outcome.NOTHING
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
            if retry_at is not None and exc.http_status == 429:
                # Throttled, not refused: the sender as a whole waits (slow_down), and this
                # message goes again right after, not on its own exponential backoff.
                retry_at = min(retry_at, moment + timedelta(seconds=max(pause_left, 1.0)))
        if retry_at is not None:
            won = uow.messages.retry(
                message_id,
                now=moment,
                send_at=retry_at,
                code=code,
                error=error,
                error_class=cls,
                fence=fence,
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
            won = uow.messages.fail(
                message_id,
                now=moment,
                code=code,
                error=error,
                error_class=cls,
                reason=reason,
                detail=detail,
                fence=fence,
            )
            if won and exc.error_class is ErrorClass.OPTED_OUT and due.patient.phone:
                opt_out(uow, due.patient.phone, source="carrier_21610", detail=error, now=moment)
            outcome = Outcome.FAILED
        uow.commit()
    log.warning("message %s to %s: %s (%s, %s)", message_id, masked(out), outcome, code, error)
    return outcome if won else Outcome.NOTHING
