"""Celery tasks: each parses its arguments, calls one service function and returns."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import timedelta

from celery.signals import worker_process_init

from reminders.bootstrap import Container, bootstrap
from reminders.entrypoints.celery_app import app
from reminders.services.dispatch import dispatch_due
from reminders.services.sending import reconcile_expired, send_message

_lock = threading.Lock()
_container: Container | None = None


def container() -> Container:
    """One container per worker process, built on first use (after the fork)."""
    global _container
    with _lock:
        if _container is None:
            _container = bootstrap()
        return _container


@worker_process_init.connect
def _fresh_after_fork(**_: object) -> None:
    global _container
    _container = None  # never share database connections across processes


def enqueue_sends(ids: Sequence[int]) -> None:
    with app.producer_or_acquire() as producer:
        for message_id in ids:
            send.apply_async((message_id,), producer=producer)


@app.task(name="reminders.dispatch_due")
def dispatch() -> int:
    c = container()
    return dispatch_due(
        uow=c.uow(),
        enqueue=enqueue_sends,
        now=c.clock,
        batch_size=c.settings.dispatch_batch_size,
        lease=timedelta(seconds=c.settings.queue_lease_seconds),
        time_budget=c.settings.dispatch_interval * 0.8,
    )


@app.task(name="reminders.send_message", acks_late=True)
def send(message_id: int) -> str:
    c = container()
    return send_message(int(message_id), uow=c.uow(), delivery=c.delivery, now=c.clock).value


@app.task(name="reminders.reconcile_sending")
def reconcile() -> dict[str, int]:
    c = container()
    return reconcile_expired(uow=c.uow(), delivery=c.delivery, now=c.clock)
