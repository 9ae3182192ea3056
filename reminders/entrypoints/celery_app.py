"""The Celery app built from settings: Redis in production, files under ./var/broker embedded."""

from __future__ import annotations

import ssl

from celery import Celery
from kombu import Queue

from reminders.entrypoints.logs import install_phi_filter
from reminders.settings import Settings, get_settings

# Beat's work (dispatch, reconcile, status polling, timers) and on-call alerts run on
# their own queue and worker, never behind a backlog of slow sends; every task not
# routed to "sends" lands there. `reminders run` and docker-compose start one worker
# per queue; a worker started without -Q takes both.
CONTROL = "control"
SENDS = "sends"
SEND_TASKS = ("reminders.send_messages", "reminders.import_csv")


def make_celery(settings: Settings) -> Celery:
    install_phi_filter()  # before the worker logs a task's arguments or a provider's error
    app = Celery("reminders", include=["reminders.entrypoints.tasks"])
    # Beat keeps its schedule file here, whatever the broker: a missing folder stopped beat.
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    if settings.embedded_broker:
        # kombu's filesystem transport: a folder of message files, no server, any number
        # of local processes. Good for one machine; production uses Redis.
        queue = settings.var_dir / "broker" / "queue"
        queue.mkdir(parents=True, exist_ok=True)
        app.conf.broker_url = "filesystem://localhost/"  # a host named: kombu warns without one
        app.conf.broker_transport_options = {
            "data_folder_in": str(queue),
            "data_folder_out": str(queue),
            "store_processed": False,
            # Exchange tables beside the queue, not in a "control" folder of the cwd.
            "control_folder": str(queue.parent / "control"),
        }
    else:
        app.conf.broker_url = settings.broker_url
        scheme = settings.broker_url.split("://", 1)[0]
        if scheme in ("redis", "rediss"):
            # The same transport, except that a Redis restart is survived (see there).
            app.conf.broker_transport = "reminders.adapters.redis_broker:Transport"
        if scheme == "rediss" and "ssl_cert_reqs" not in settings.broker_url:
            # kombu turns TLS on by the transport's name, which is now ours: say it here,
            # verifying Redis's certificate (add ?ssl_cert_reqs=... and ssl_ca_certs=... to
            # the URL for a private CA).
            app.conf.broker_use_ssl = {"ssl_cert_reqs": ssl.CERT_REQUIRED}
        # Tasks are short and never scheduled ahead (DESIGN.md rule 1), so an unacked task
        # of a dead worker can come back after minutes, not the default hour.
        app.conf.broker_transport_options = {"visibility_timeout": 600}
    app.conf.update(
        task_acks_late=True,  # a task is removed only once done: a killed worker's comes back
        task_reject_on_worker_lost=True,
        # One task at a time per process: a killed worker strands no prefetched batches.
        worker_prefetch_multiplier=1,
        task_queues=(Queue(CONTROL), Queue(SENDS)),
        task_default_queue=CONTROL,
        task_routes={name: {"queue": SENDS} for name in SEND_TASKS},
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        timezone="UTC",
        broker_connection_retry_on_startup=True,
        beat_schedule_filename=str(settings.var_dir / "celerybeat-schedule"),
        beat_schedule={
            "dispatch-due": {
                "task": "reminders.dispatch_due",
                "schedule": settings.dispatch_interval,
                # A dispatch nobody ran in time is dropped: the next one does its work.
                "options": {"expires": settings.dispatch_interval * 3},
            },
            "reconcile-sending": {
                "task": "reminders.reconcile_sending",
                "schedule": settings.reconcile_interval,
                "options": {"expires": settings.reconcile_interval * 2},
            },
            # Replies (docs/replies.md): check-in reminders and staff tasks, on-call alerts
            # that failed, and texts whose status callback never came.
            "follow-up-checkins": {
                "task": "reminders.follow_up_checkins",
                "schedule": settings.replies_interval,
                "options": {"expires": settings.replies_interval * 2},
            },
            "retry-notifications": {
                "task": "reminders.retry_notifications",
                "schedule": settings.replies_interval,
                "options": {"expires": settings.replies_interval * 2},
            },
            "poll-statuses": {
                "task": "reminders.poll_statuses",
                "schedule": settings.reconcile_interval,
                "options": {"expires": settings.reconcile_interval * 2},
            },
            # Closed loop (docs/replies.md): an unacknowledged red flag climbs its paging
            # ladder. Every 30 s at most, so a rung is never more than half a minute late.
            "acknowledgement-timers": {
                "task": "reminders.climb_ladders",
                "schedule": min(30.0, settings.replies_interval),
                "options": {"expires": min(30.0, settings.replies_interval) * 2},
            },
        },
    )
    return app


app = make_celery(get_settings())
