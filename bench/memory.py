"""Worker memory over 100,000 messages: the send worker's resident size at each quarter.

    .venv/bin/python bench/memory.py                     # 100,000 messages
    .venv/bin/python bench/memory.py --messages 20000

The real processes (beat, a control worker, a send worker of 2 processes) send due texts
to a local fake Twilio. Resident size is the send worker's main process plus its pool,
read from /proc every half second; it prints the size when sending starts and at 25%,
50%, 75% and 100%, and the growth. The first quarter includes warm-up (imports, caches,
connection pools filled), so the steady-state growth is from 25% to 100%.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from sqlalchemy import func, select  # noqa: E402

from bench.stack import (  # noqa: E402
    bench_stack,
    make_due_rows,
    rss_kb,
    start_beat,
    start_workers,
    stop,
)
from reminders.adapters.db.orm import scheduled_messages as M  # noqa: E402

MARKS = (0.25, 0.5, 0.75, 1.0)


def mib(kb: int) -> str:
    return f"{kb / 1024:6.1f} MiB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--concurrency", type=int, default=2)
    args = ap.parse_args()
    n = args.messages
    with bench_stack("memory", REMINDERS_DISPATCH_INTERVAL="0.5") as s:
        t0 = time.monotonic()
        make_due_rows(s.env, n)
        print(f"{n} due texts written in {time.monotonic() - t0:.0f} s")
        control, sends = start_workers(s.env, s.tmp, "memory", args.concurrency)
        procs = [start_beat(s.env, s.tmp, "memory"), control, sends]
        sent_count = select(func.count()).where(M.c.status == "sent")
        marks: list[tuple[str, int, int]] = []  # (label, sent, KiB)
        peak = 0
        try:
            started = None
            while True:
                with s.engine.connect() as conn:
                    sent = int(conn.scalar(sent_count) or 0)
                kb = rss_kb(sends.pid)
                peak = max(peak, kb)
                if sent and started is None:
                    started = time.monotonic()
                    marks.append(("start", sent, kb))
                while len(marks) <= len(MARKS) and marks and sent >= MARKS[len(marks) - 1] * n:
                    label = f"{int(MARKS[len(marks) - 1] * 100)}%"
                    marks.append((label, sent, kb))
                if sent >= n:
                    break
                if sends.poll() is not None:
                    raise SystemExit(f"the send worker exited; see {s.tmp}")
                time.sleep(0.5)
            assert started is not None
            elapsed = time.monotonic() - started
            control_kb = rss_kb(control.pid)
        finally:
            stop(procs)
    print(f"send worker ({args.concurrency} pool processes) resident memory, main + pool:")
    for label, at, kb in marks:
        print(f"  {label:>5} ({at:6d} sent)  {mib(kb)}")
    by = dict((label, kb) for label, _, kb in marks)
    print(
        f"  growth 25% -> 100%: {(by['100%'] - by['25%']) / 1024:+.1f} MiB; "
        f"start -> 100%: {(by['100%'] - by['start']) / 1024:+.1f} MiB; peak {mib(peak)}"
    )
    print(f"control worker at the end: {mib(control_kb)}; {n / elapsed:.0f} messages/s")


if __name__ == "__main__":
    main()
