"""The Celery broker as settings name it: transport, queues and routes, for senders and workers.

Redis in production, files under ./var/broker embedded. The worker's app (entrypoints/
celery_app.py) adds its tasks and beat's schedule to this; bootstrap sends tasks by name
through it.

kombu's Redis transport is guarded here so a Redis restart never stops a worker. When
Redis goes away mid-task, Celery closes the broken connection twice (collect, then close).
The second close finds the connection already detached from its transport and kombu 5.7
raised AttributeError there, which Celery treats as unrecoverable: the worker exited and
nothing was sent until someone restarted it. Here that case is a connection error, which
Celery already handles by reconnecting. Unacked messages of the dead Redis are gone either
way; their rows' queue lease brings them back (docs/architecture.md).
"""

from __future__ import annotations

import ssl
from typing import Any

from celery import Celery
from kombu import Queue
from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError

from reminders.settings import Settings

# Beat's work (dispatch, reconcile, status polling, timers) and on-call alerts run on
# their own queue and worker, never behind a backlog of slow sends; every task not
# routed to "sends" lands there. `reminders run` and docker-compose start one worker
# per queue; a worker started without -Q takes both.
CONTROL = "control"
SENDS = "sends"
# The FHIR write-back waits on a hospital server: never in front of dispatch.
SEND_TASKS = ("reminders.send_messages", "reminders.import_csv", "reminders.write_back")


def broker_app(settings: Settings) -> Celery:
    """A Celery app on the configured broker with the service's queues and routes."""
    app = Celery("reminders")
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
            app.conf.broker_transport = "reminders.adapters.broker:Transport"
        if scheme == "rediss" and "ssl_cert_reqs" not in settings.broker_url:
            # kombu turns TLS on by the transport's name, which is now ours: say it here,
            # verifying Redis's certificate (add ?ssl_cert_reqs=... and ssl_ca_certs=... to
            # the URL for a private CA).
            app.conf.broker_use_ssl = {"ssl_cert_reqs": ssl.CERT_REQUIRED}
        # Tasks are short and never scheduled ahead (docs/rules.md, rule 1), so an unacked task
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
    )
    return app


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        transport = self.connection
        if transport is None or transport.client is None:
            raise RedisConnectionError("the broker connection is already closed")
        params: dict[str, Any] = super()._connparams(asynchronous=asynchronous)
        return params


class Transport(kombu_redis.Transport):
    Channel = Channel
