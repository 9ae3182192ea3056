"""The worker's Celery app: the broker's (adapters/broker.py), with its tasks and beat's schedule."""

from __future__ import annotations

from celery import Celery

from reminders.adapters.broker import broker_app
from reminders.entrypoints.logs import install_phi_filter
from reminders.settings import Settings, get_settings


def make_celery(settings: Settings) -> Celery:
    install_phi_filter()  # before the worker logs a task's arguments or a provider's error
    app = broker_app(settings)
    app.conf.include = ["reminders.entrypoints.tasks"]
    app.conf.update(
        beat_schedule_filename=str(settings.var_dir / "celerybeat-schedule"),
        # No entry carries `expires`: Celery turns it into an absolute time from beat's clock,
        # and a worker whose clock runs ahead by more than that revokes every such task as
        # expired, for ever: a silent stop. All these tasks are idempotent and cheap when
        # there is nothing to do, so one that waited in the queue through an outage just runs
        # (docs/reliability.md).
        beat_schedule={
            "dispatch-due": {
                "task": "reminders.dispatch_due",
                "schedule": settings.dispatch_interval,
            },
            "reconcile-sending": {
                "task": "reminders.reconcile_sending",
                "schedule": settings.reconcile_interval,
            },
            # Replies (docs/replies.md): check-in reminders and staff tasks, on-call alerts
            # that failed, and texts whose status callback never came.
            "follow-up-checkins": {
                "task": "reminders.follow_up_checkins",
                "schedule": settings.replies_interval,
            },
            "retry-notifications": {
                "task": "reminders.retry_notifications",
                "schedule": settings.replies_interval,
            },
            "poll-statuses": {
                "task": "reminders.poll_statuses",
                "schedule": settings.reconcile_interval,
            },
            # Replies kept in the web process's spool while the database was down
            # (docs/reliability.md): handled within seconds of its return.
            "drain-inbound-spool": {
                "task": "reminders.drain_inbound_spool",
                "schedule": settings.spool_interval,
            },
            # Closed loop (docs/replies.md): an unacknowledged red flag climbs its paging
            # ladder. Every 30 s at most, so a rung is never more than half a minute late.
            "acknowledgement-timers": {
                "task": "reminders.climb_ladders",
                "schedule": min(30.0, settings.replies_interval),
            },
            # Write-back to the chart (docs/integration.md): the FHIR outbox, filled and sent.
            "write-back": {
                "task": "reminders.write_back",
                "schedule": settings.writeback_interval,
            },
        },
    )
    return app


app = make_celery(get_settings())
