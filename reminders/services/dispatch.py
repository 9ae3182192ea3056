"""Dispatch: claim messages that are due now and hand their ids to the workers, after commit."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from reminders.adapters.unit_of_work import UnitOfWork

Enqueue = Callable[[Sequence[int]], None]


def dispatch_due(
    *,
    uow: UnitOfWork,
    enqueue: Enqueue,
    now: Callable[[], datetime],
    batch_size: int = 500,
    max_in_flight: int = 5000,
    lease: timedelta = timedelta(minutes=5),
    time_budget: float = 4.0,
) -> int:
    """Claim due messages batch by batch and enqueue them; return how many were handed over.

    The broker only ever holds ids of work due now. If enqueueing fails (the broker is
    down), the rows stay queued with a lease and are claimed again once it expires.
    `max_in_flight` bounds what waits in the broker, so a backlog never outgrows a lease.
    """
    started = time.monotonic()
    total = 0
    while time.monotonic() - started < time_budget:
        with uow:
            moment = now()
            room = max_in_flight - uow.message_reads.in_flight(moment)
            ids = uow.message_reads.due(now=moment, limit=min(batch_size, room))
            uow.messages.claim(ids, now=moment, lease_until=moment + lease)
            uow.commit()
        if not ids:
            break
        enqueue(ids)
        total += len(ids)
        if len(ids) < batch_size:
            break
    return total
