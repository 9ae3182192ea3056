"""Dispatch: claim messages that are due now and hand their ids to the workers, after commit."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from reminders.adapters.db.unit_of_work import UnitOfWork

Enqueue = Callable[[Sequence[int]], None]
GRANULE = 0.25  # seconds: the finest lateness a following dispatch aims at


def dispatch_due(
    *,
    uow: UnitOfWork,
    enqueue: Enqueue,
    now: Callable[[], datetime],
    batch_size: int = 500,
    max_in_flight: int = 5000,
    lease: timedelta = timedelta(minutes=5),
    time_budget: float = 4.0,
    follow: bool = False,
) -> int:
    """Claim due messages batch by batch and enqueue them; return how many were handed over.

    The broker only ever holds ids of work due now. If enqueueing fails (the broker is
    down), the rows stay queued with a lease and are claimed again once it expires.
    `max_in_flight` bounds what waits in the broker, so a backlog never outgrows a lease.
    A full batch is followed at once by the next. With `follow` (beat's task), a message
    coming due within the time budget is waited for and claimed on time, so lateness is
    not the interval's; an idle database sees three small queries a tick.
    """
    started = time.monotonic()
    total = 0
    waited = False
    while (left := time_budget - (time.monotonic() - started)) > 0:
        with uow:
            moment = now()
            room = max_in_flight - uow.message_reads.in_flight(moment)
            limit = max(0, min(batch_size, room))
            ids = uow.message_reads.due(now=moment, limit=limit)
            uow.messages.claim(ids, now=moment, lease_until=moment + lease)
            next_due = uow.message_reads.next_due_at() if follow else None
            uow.commit()
        if ids:
            enqueue(ids)
            total += len(ids)
        if len(ids) == batch_size:
            continue
        if len(ids) == limit:
            # The broker holds all it may (max_in_flight): waiting here for room would only
            # keep a worker process from sending; the next tick claims more.
            break
        if next_due is None or (not ids and waited):
            break  # nothing coming, or due rows another dispatcher holds
        wait = (next_due - now()).total_seconds()
        if wait >= left:
            break
        # Not sooner than a granule: a claim per row coming due would make tasks of one
        # id each, and per-task work would then cost more than the lateness it saves.
        time.sleep(max(wait, GRANULE))
        waited = True
    return total
