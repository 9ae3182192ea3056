"""Counts the SQL statements and commits a worker process runs, for the benchmarks.

Loaded into a worker with `-I bench.sql_counter` and BENCH_SQL_COUNTER=<redis hash>: each
process counts every statement (SQLAlchemy's before_cursor_execute) and every commit in
memory and adds them to the hash after each task, one Redis call a task. Dispatch,
reconcile and status polling count too: they run in the workers.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import redis
from celery.signals import task_postrun
from sqlalchemy import event
from sqlalchemy.engine import Engine

from reminders.entrypoints.celery_app import app

KEY = os.environ.get("BENCH_SQL_COUNTER", "")
_counts: Counter[str] = Counter()
_redis: redis.Redis | None = None


def _statement(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
    _counts["statements"] += 1
    _counts["sql: " + " ".join(statement.split())[:70]] += 1  # which statements, roughly


def _commit(*_: Any) -> None:
    _counts["commits"] += 1


def _flush(**_: Any) -> None:
    global _redis
    if not _counts:
        return
    if _redis is None:
        _redis = redis.Redis.from_url(app.conf.broker_url)
    with _redis.pipeline(transaction=False) as p:
        for name, n in _counts.items():
            p.hincrby(KEY, name, n)
        p.execute()
    _counts.clear()


if KEY:
    event.listen(Engine, "before_cursor_execute", _statement)
    event.listen(Engine, "commit", _commit)
    task_postrun.connect(_flush, weak=False)


def totals(r: redis.Redis, key: str) -> dict[str, int]:
    """What every worker process added up (read by the bench process); keys "statements",
    "commits", and "sql: <start of a statement>" for each kind of statement."""
    return {k.decode(): int(v) for k, v in r.hgetall(key).items()}
