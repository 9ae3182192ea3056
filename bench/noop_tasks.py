"""The benchmark's baseline: a task that does nothing but count itself, on the service's app."""

from __future__ import annotations

import redis

from reminders.entrypoints.celery_app import app

_redis: redis.Redis | None = None


@app.task(name="bench.noop")
def noop(counter: str) -> None:
    global _redis
    if _redis is None:
        _redis = redis.Redis.from_url(app.conf.broker_url)
    _redis.incr(counter)  # one round trip, so the run knows when every task is done
