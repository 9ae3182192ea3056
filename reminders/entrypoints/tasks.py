"""Celery tasks: each parses its arguments, calls one service function and returns."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from itertools import pairwise

from celery.signals import worker_process_init
from kombu.exceptions import KombuError
from redis.exceptions import RedisError
from sqlalchemy.exc import InterfaceError, OperationalError

from reminders.adapters.inbound_spool import InboundSpool
from reminders.adapters.providers.fhir_client import FhirClient, client_from
from reminders.adapters.providers.twilio_status import status_lookup
from reminders.bootstrap import Container, bootstrap
from reminders.entrypoints.celery_app import app
from reminders.entrypoints.web.api.webhooks import drain_spool
from reminders.services.delivery.dispatch import dispatch_due
from reminders.services.delivery.notifications import deliver_notifications, retry_notifications
from reminders.services.delivery.reconcile import reconcile_expired, reconcile_notifications
from reminders.services.delivery.sending import send_messages
from reminders.services.delivery.status import poll_unsettled
from reminders.services.enrollments.intake import run_import
from reminders.services.replies.acknowledgement import climb_ladders
from reminders.services.replies.checkins import follow_up_checkins
from reminders.services.replies.oncall import OnCall
from reminders.services.writeback.outbox import write_back

_lock = threading.Lock()
_container: Container | None = None


def container() -> Container:
    """One container per worker process, built on first use (after the fork)."""
    global _container
    with _lock:
        if _container is None:
            _container = bootstrap()
        return _container


_fhir: list[FhirClient | None] = []  # the write-back client, made once a process


def fhir_client(c: Container) -> FhirClient | None:
    with _lock:
        if not _fhir:
            _fhir.append(client_from(c.settings))
        return _fhir[0]


@worker_process_init.connect
def _fresh_after_fork(**_: object) -> None:
    global _container
    _container = None  # never share database connections across processes
    _fhir.clear()


def enqueue_sends(ids: Sequence[int]) -> None:
    with app.producer_or_acquire() as producer:
        for batch in even_batches(ids, container().settings.send_batch_size):
            send.apply_async((batch,), producer=producer)


def even_batches(ids: Sequence[int], size: int) -> list[list[int]]:
    """As few tasks as `size` allows, of even length (120 ids: 60 + 60, not 100 + 20): a
    short tail task would cost a whole round of provider calls for a few texts."""
    n = -(-len(ids) // size)
    bounds = [len(ids) * i // n for i in range(n + 1)] if n else []
    return [list(ids[a:b]) for a, b in pairwise(bounds)]


def in_flight_bound(c: Container) -> int:
    """No more queued than the sender can clear in half a lease, so leases rarely lapse."""
    s = c.settings
    return max(
        s.send_batch_size,
        min(s.max_in_flight, int(s.sms_rate_per_second * s.queue_lease_seconds / 2)),
    )


@app.task(name="reminders.dispatch_due")
def dispatch() -> int:
    c = container()
    return dispatch_due(
        uow=c.uow(),
        enqueue=enqueue_sends,
        now=c.clock,
        batch_size=c.settings.dispatch_batch_size,
        max_in_flight=in_flight_bound(c),
        lease=timedelta(seconds=c.settings.queue_lease_seconds),
        time_budget=c.settings.dispatch_interval * 0.8,
        follow=True,
    )


# A database or broker outage: the task comes back with backoff instead of being dropped
# (its rows would otherwise wait for their queue lease to lapse).
OUTAGES = (OperationalError, InterfaceError, RedisError, KombuError)


@app.task(
    name="reminders.send_messages",
    acks_late=True,
    autoretry_for=OUTAGES,
    retry_backoff=1,
    retry_backoff_max=20,
    retry_jitter=True,
    max_retries=30,
)
def send(message_ids: list[int]) -> dict[str, int]:
    c = container()
    outcomes = send_messages(
        [int(i) for i in message_ids], uow=c.uow(), delivery=c.delivery, now=c.clock
    )
    return dict(Counter(o.value for o in outcomes.values()))


@app.task(name="reminders.reconcile_sending")
def reconcile() -> dict[str, int]:
    c = container()
    counts = reconcile_expired(uow=c.uow(), delivery=c.delivery, now=c.clock)
    notes = reconcile_notifications(uow=c.uow(), delivery=c.delivery, now=c.clock)
    return counts | {f"notification_{k}": n for k, n in notes.items() if n}


@app.task(name="reminders.follow_up_checkins")
def follow_up() -> dict[str, int]:
    c = container()
    return follow_up_checkins(uow=c.uow(), delivery=c.delivery, now=c.clock)


@app.task(name="reminders.send_alerts", acks_late=True)
def send_alerts(notification_ids: list[int]) -> dict[str, int]:
    c = container()
    ids = [int(i) for i in notification_ids]
    return deliver_notifications(uow=c.uow(), delivery=c.delivery, ids=ids, now=c.clock)


@app.task(name="reminders.retry_notifications")
def retry_alerts() -> dict[str, int]:
    c = container()
    return retry_notifications(uow=c.uow(), delivery=c.delivery, now=c.clock)


@app.task(name="reminders.climb_ladders")
def acknowledgement_timers() -> dict[str, int]:
    """Re-page, page the backup, then call: red flags nobody acknowledged in time."""
    c = container()
    return climb_ladders(
        uow=c.uow(), delivery=c.delivery, oncall=OnCall.from_settings(c.settings), now=c.clock
    )


@app.task(name="reminders.poll_statuses")
def poll_statuses() -> dict[str, int]:
    c = container()
    return poll_unsettled(
        uow=c.uow(),
        lookup=status_lookup(c.delivery.sms),
        now=c.clock,
        after=timedelta(minutes=c.settings.status_poll_after_minutes),
    )


@app.task(name="reminders.import_csv", acks_late=True)
def import_csv(run_id: int) -> dict[str, int]:
    """Enroll the rows of a stored CSV import; a redelivered or repeated run resumes it."""
    c = container()
    summary = run_import(
        int(run_id),
        uow=c.uow(),
        planning=c.planning,
        clock=c.clock,
        default_timezone=c.settings.clinic_timezone,
    )
    return {
        "enrolled": summary.enrolled,
        "duplicates": summary.duplicates,
        "rejected": summary.rejected,
    }


@app.task(name="reminders.write_back")
def write_back_to_chart() -> dict[str, int]:
    """Fill the FHIR outbox from what was sent and answered; deliver what is due."""
    c = container()
    done = write_back(c.uow, fhir_client(c), now=c.clock)
    return {"queued": done.queued, "delivered": done.delivered, "failed": done.failed}


@app.task(name="reminders.drain_inbound_spool")
def drain_inbound_spool() -> int:
    """Replies the web process kept while the database was down: handled once it is back
    (docs/reliability.md). Returns how many are still waiting."""
    c = container()
    drain_spool(c)
    return len(InboundSpool(c.settings.var_dir).pending())
