"""Provider calls side by side: a bounded pool per worker process, leases renewed meanwhile."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import datetime

from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.adapters.providers.ports import ProviderError, Sent
from reminders.services.delivery.outgoing import WINDOW_MAX, Delivery, Outgoing, hand_over, masked

log = logging.getLogger("reminders.sending")

Call = tuple[int, int, Outgoing]  # message id, attempt, what to hand over


def hand_over_all(
    calls: list[Call],
    uow: UnitOfWork,
    delivery: Delivery,
    now: Callable[[], datetime],
) -> list[tuple[Call, Sent | ProviderError, float]]:
    """Call the provider for each, side by side; renew the leases of calls still running.
    Each answer comes with when it arrived (time.monotonic())."""
    futures = {_pool().submit(_call, out, delivery): (mid, a, out) for mid, a, out in calls}
    running = set(futures)
    every = delivery.send_lease.total_seconds() / 3
    while running:
        _, running = wait(running, timeout=every)
        if running:
            with uow:
                moment = now()
                uow.messages.heartbeat(
                    [futures[f][:2] for f in running],
                    now=moment,
                    lease_until=moment + delivery.send_lease,
                )
                uow.commit()
    try:
        return [(futures[f], *f.result()) for f in futures]
    finally:  # one line a chunk (a line a message cost 5% of a send), recipients masked,
        # written even when a call raised something unexpected
        sent = [
            futures[f][2]
            for f in futures
            if f.done() and f.exception() is None and isinstance(f.result()[0], Sent)
        ]
        if sent:
            log.info(
                "sent %d %s: %s",
                len(sent),
                "+".join(sorted({out.kind.value for out in sent})),
                ", ".join(f"{out.reference} to {masked(out)}" for out in sent),
            )


def _call(out: Outgoing, delivery: Delivery) -> tuple[Sent | ProviderError, float]:
    """The provider's answer and when it arrived (time.monotonic()): a Retry-After counts
    from then, not from when the whole chunk was recorded."""
    try:
        return hand_over(out, delivery=delivery, log_it=False), time.monotonic()
    except ProviderError as exc:
        return exc, time.monotonic()


_pools: dict[int, ThreadPoolExecutor] = {}


def _pool() -> ThreadPoolExecutor:
    """This process's pool of provider calls (threads do not survive a worker's fork)."""
    pid = os.getpid()
    if pid not in _pools:
        _pools.clear()
        _pools[pid] = ThreadPoolExecutor(WINDOW_MAX, thread_name_prefix="send")
    return _pools[pid]
