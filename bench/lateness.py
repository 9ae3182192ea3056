"""Lateness (sent - due) at a steady stream of due texts: p50 and p99 at 50 and 300 a second.

    .venv/bin/python bench/lateness.py                    # 50/s and 300/s, 20 s each
    .venv/bin/python bench/lateness.py --rates 300 --seconds 10

Texts come due one after another at the given rate (one phone each: the SMS cap counts
per phone), beat dispatches at its default interval, a control worker and a send worker
(2 processes) deliver to a local fake Twilio. Lateness is each row's sent_at - send_at.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from sqlalchemy import func, select, text  # noqa: E402

from bench.stack import bench_stack, make_due_rows, start_beat, start_workers, stop  # noqa: E402
from reminders.adapters.db.orm import scheduled_messages as M  # noqa: E402
from reminders.settings import Settings  # noqa: E402


def one_rate(env: dict[str, str], tmp: Path, engine, rate: int, seconds: float) -> list[float]:
    n = int(rate * seconds)
    make_due_rows(env, n)
    start = datetime.now(UTC) + timedelta(seconds=8)  # time for the workers to start
    with engine.begin() as conn:
        first = conn.scalar(select(func.min(M.c.id)))
        conn.execute(
            text(
                "UPDATE scheduled_messages SET deadline = :start + interval '1 hour',"
                " send_at = :start + (id - :first) * (interval '1 second' / :rate)"
            ),
            {"start": start, "first": first, "rate": rate},
        )
    procs = [start_beat(env, tmp, str(rate)), *start_workers(env, tmp, str(rate))]
    try:
        while True:
            with engine.connect() as conn:
                sent = conn.scalar(select(func.count()).where(M.c.status == "sent"))
            if sent >= n:
                break
            time.sleep(0.5)
    finally:
        stop(procs)
    with engine.connect() as conn:
        pairs = conn.execute(select(M.c.sent_at, M.c.send_at)).all()
    return sorted((a - b).total_seconds() for a, b in pairs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rates", default="50,300")
    ap.add_argument("--seconds", type=float, default=20)
    args = ap.parse_args()
    with bench_stack("lateness") as stack:
        env, tmp = stack.env, stack.tmp
        interval = Settings(**env).dispatch_interval
        print(f"dispatch interval {interval:g} s (the default); {args.seconds:g} s of due texts")
        for rate in (int(r) for r in args.rates.split(",")):
            late = one_rate(env, tmp, stack.engine, rate, args.seconds)
            p50, p99 = statistics.median(late), late[int(len(late) * 0.99) - 1]
            print(
                f"  {rate:4d} due/s: p50 {p50:5.2f} s  p99 {p99:5.2f} s  max {late[-1]:5.2f} s"
                f"  (target p99 <= {interval + 1:g} s)"
            )


if __name__ == "__main__":
    main()
