"""Delivery benchmark: end-to-end messages a second next to raw Celery no-op tasks a second.

    .venv/bin/python bench/delivery.py                  # 20,000 messages, then memory at 100,000
    .venv/bin/python bench/delivery.py --messages 5000 --memory-messages 0
    .venv/bin/python bench/delivery.py --latency-ms 100 --messages 5000 --memory-messages 0

One run, one broker (a private redis-server), one PostgreSQL database, the same worker
command and concurrency for both figures. End to end = a due row claimed by beat's
dispatcher, a worker renders it, takes a rate-limit token, gets a 201 from a local fake
Twilio through the real twilio client, and marks the row sent. SQL statements per message
are counted in the worker processes (bench/sql_counter.py; --sql-detail lists them by
kind). Memory is the worker's resident size (main process plus pool) sampled while
100,000 messages go through.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import redis  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

from bench.stack import bench_stack, make_due_rows, rss_kb  # noqa: E402
from reminders.adapters.db.orm import scheduled_messages  # noqa: E402
from reminders.settings import Settings  # noqa: E402
from support.processes import kill_group, start_celery  # noqa: E402


def noop_rate(env: dict[str, str], tmp: Path, n: int, concurrency: int) -> float:
    """Raw Celery: n no-op tasks prefilled in the queue, drained by the same worker setup."""
    from reminders.entrypoints.celery_app import make_celery

    app = make_celery(Settings(**env))
    app.conf.task_ignore_result = True
    counter = f"bench:noop:{uuid.uuid4().hex}"
    noop = app.signature("bench.noop", args=(counter,))
    with app.producer_or_acquire() as producer:
        for _ in range(n):
            noop.apply_async(producer=producer)
    r = redis.Redis.from_url(env["REMINDERS_BROKER_URL"])
    worker = start_celery(
        "worker",
        {**env, "BENCH_NOOP": "1"},
        tmp / "noop.log",
        "--concurrency",
        str(concurrency),
        "-I",
        "bench.noop_tasks",
    )
    try:
        while not r.get(counter):
            time.sleep(0.01)
        start, first = time.monotonic(), int(r.get(counter) or 0)
        while int(r.get(counter) or 0) < n:
            time.sleep(0.05)
        return (n - first) / (time.monotonic() - start)
    finally:
        kill_group(worker)


def end_to_end(
    env: dict[str, str], tmp: Path, n: int, concurrency: int, engine: object
) -> tuple[float, list[tuple[int, int]], dict[str, int]]:
    """Messages a second, (sent, worker KiB) samples, and the workers' SQL counts."""
    make_due_rows(env, n)
    counting = counted_env(env)
    beat = start_celery("beat", env, tmp / "beat.log", "-s", str(tmp / f"beat-{n}"))
    worker = start_celery(
        "worker",
        counting,
        tmp / f"worker-{n}.log",
        "--concurrency",
        str(concurrency),
        "-I",
        "bench.sql_counter",
    )
    count = (
        select(text("count(*)"))
        .select_from(scheduled_messages)
        .where(scheduled_messages.c.status == "sent")
    )
    samples: list[tuple[int, int]] = []
    try:
        start = None
        while True:
            with engine.connect() as conn:  # type: ignore[attr-defined]
                done = conn.scalar(count)
            if done and start is None:
                start, first = time.monotonic(), done
            samples.append((done, rss_kb(worker.pid)))
            if done >= n:
                break
            time.sleep(0.5)
        assert start is not None
        rate = (n - first) / (time.monotonic() - start)
        return rate, samples, sql_counts(counting)
    finally:
        kill_group(worker)
        kill_group(beat)


def counted_env(env: dict[str, str]) -> dict[str, str]:
    """The worker environment with a fresh Redis hash for bench/sql_counter.py."""
    return {**env, "BENCH_SQL_COUNTER": f"bench:sql:{uuid.uuid4().hex}"}


def sql_counts(env: dict[str, str]) -> dict[str, int]:
    """Statements and commits every worker process ran (each adds its own after a task)."""
    from bench.sql_counter import totals

    time.sleep(1.0)  # the last task adds its counts just after its rows are marked sent
    r = redis.Redis.from_url(env["REMINDERS_BROKER_URL"])
    return totals(r, env["BENCH_SQL_COUNTER"])


def sql_line(counts: dict[str, int], n: int, detail: bool = False) -> str:
    statements, commits = counts.get("statements", 0), counts.get("commits", 0)
    line = (
        f"SQL statements per message   {statements / n:8.3f}     (target <= 0.3; "
        f"{statements} statements, {commits / n:.3f} commits a message)"
    )
    if detail:
        kinds = sorted(
            ((v, k[5:]) for k, v in counts.items() if k.startswith("sql: ")), reverse=True
        )
        line += "".join(f"\n  {v / n:7.3f}  {k}" for v, k in kinds)
    return line


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=20_000)
    ap.add_argument("--memory-messages", type=int, default=100_000)
    ap.add_argument("--concurrency", type=int, default=2)
    ap.add_argument("--latency-ms", type=float, default=0, help="the fake Twilio's answer time")
    ap.add_argument("--sql-detail", action="store_true", help="statements a message, by kind")
    args = ap.parse_args()

    with bench_stack(
        "bench", latency_ms=args.latency_ms, REMINDERS_DISPATCH_INTERVAL="0.5"
    ) as stack:
        env, tmp, engine = stack.env, stack.tmp, stack.engine
        print(
            f"concurrency {args.concurrency} worker processes, {os.cpu_count()} cores, "
            f"provider latency {args.latency_ms:g} ms"
        )
        noop = noop_rate(env, tmp, args.messages, args.concurrency)
        print(f"raw Celery no-op tasks      {noop:8.0f} /s   ({args.messages} tasks)")
        e2e, _, sql = end_to_end(env, tmp, args.messages, args.concurrency, engine)
        print(f"end-to-end messages         {e2e:8.0f} /s   ({args.messages} messages)")
        print(f"ratio                       {e2e / noop:8.2f}     (target >= 1.0)")
        print(sql_line(sql, args.messages, args.sql_detail))
        if args.memory_messages:
            rate, samples, _ = end_to_end(env, tmp, args.memory_messages, args.concurrency, engine)
            peak = max(kb for _, kb in samples)
            marks = []
            for share in (0.1, 0.5, 0.9):
                _, kb = next(s for s in samples if s[0] >= share * args.memory_messages)
                marks.append(f"{int(share * 100)}%: {kb / 1024:.0f} MiB")
            print(
                f"worker memory over {args.memory_messages} messages: peak "
                f"{peak / 1024:.0f} MiB; " + ", ".join(marks) + f"  ({rate:.0f} msg/s)"
            )


if __name__ == "__main__":
    main()
