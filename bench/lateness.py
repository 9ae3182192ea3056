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
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from sqlalchemy import func, select, text  # noqa: E402

from bench.delivery import ADMIN_URL, make_due_rows  # noqa: E402
from reminders.adapters.db import make_engine  # noqa: E402
from reminders.adapters.migrate import upgrade  # noqa: E402
from reminders.adapters.orm import scheduled_messages as M  # noqa: E402
from reminders.settings import Settings  # noqa: E402
from support.fake_twilio import FakeTwilio  # noqa: E402
from support.processes import free_port, kill_group, start_celery, start_redis  # noqa: E402


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
    procs = [start_celery("beat", env, tmp / f"beat-{rate}.log", "-s", str(tmp / f"b-{rate}"))]
    for queue, c in (("control", 1), ("sends", 2)):
        args = ("-Q", queue, "-n", f"{queue}@%h", "--concurrency", str(c))
        procs.append(start_celery("worker", env, tmp / f"{queue}-{rate}.log", *args))
    try:
        while True:
            with engine.connect() as conn:
                sent = conn.scalar(select(func.count()).where(M.c.status == "sent"))
            if sent >= n:
                break
            time.sleep(0.5)
    finally:
        for p in procs:
            kill_group(p)
    with engine.connect() as conn:
        pairs = conn.execute(select(M.c.sent_at, M.c.send_at)).all()
    return sorted((a - b).total_seconds() for a, b in pairs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rates", default="50,300")
    ap.add_argument("--seconds", type=float, default=20)
    args = ap.parse_args()
    tmp = Path(f"/tmp/reminders-lateness-{uuid.uuid4().hex[:8]}")
    tmp.mkdir()
    admin = make_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    dbname = f"reminders_late_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{dbname}"'))
    url = admin.url.set(database=dbname).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    port = free_port()
    redis_proc = start_redis(port, tmp / "redis.log")
    twilio = FakeTwilio().start()
    env = {
        "REMINDERS_DATABASE_URL": url,
        "REMINDERS_BROKER_URL": f"redis://127.0.0.1:{port}/0",
        "REMINDERS_VAR_DIR": str(tmp / "var"),
        "TWILIO_ACCOUNT_SID": twilio.account_sid,
        "TWILIO_AUTH_TOKEN": twilio.auth_token,
        "TWILIO_FROM_NUMBER": "+18055550100",
        "TWILIO_API_BASE_URL": twilio.url,
        "REMINDERS_SMS_RATE_PER_SECOND": "100000",
    }
    interval = Settings(**env).dispatch_interval
    try:
        print(f"dispatch interval {interval:g} s (the default); {args.seconds:g} s of due texts")
        for rate in (int(r) for r in args.rates.split(",")):
            late = one_rate(env, tmp, engine, rate, args.seconds)
            p50, p99 = statistics.median(late), late[int(len(late) * 0.99) - 1]
            print(
                f"  {rate:4d} due/s: p50 {p50:5.2f} s  p99 {p99:5.2f} s  max {late[-1]:5.2f} s"
                f"  (target p99 <= {interval + 1:g} s)"
            )
    finally:
        twilio.stop()
        redis_proc.kill()
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
