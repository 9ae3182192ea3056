"""The stack every bench runs on: a throwaway database, a private Redis, a lean fake Twilio, workers.

    with bench_stack("lateness") as s:       # s.env, s.tmp, s.engine, s.twilio
        make_due_rows(s.env, 1000)
        procs = [start_beat(s.env, s.tmp, "run1"), *start_workers(s.env, s.tmp, "run1")]
        ...
        stop(procs)

The database is created on the PostgreSQL server named by REMINDERS_TEST_POSTGRES_URL
(default the local one) and dropped after; Redis is a redis-server of the bench's own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for _path in (str(ROOT / "tests"), str(ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from sqlalchemy import Engine, text  # noqa: E402

from bench.lean_twilio import LeanTwilio  # noqa: E402
from reminders.adapters.db.engine import make_engine  # noqa: E402
from reminders.adapters.db.migrate import upgrade  # noqa: E402
from reminders.bootstrap import bootstrap  # noqa: E402
from reminders.settings import Settings  # noqa: E402
from support.patients import due_texts_for_many  # noqa: E402
from support.processes import free_port, kill_group, start_celery, start_redis  # noqa: E402

ADMIN_URL = os.environ.get(
    "REMINDERS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@dataclass
class Stack:
    env: dict[str, str]  # the settings every process of the run gets
    tmp: Path  # logs and beat schedules
    engine: Engine  # the bench database, for counting and reading results
    twilio: LeanTwilio  # in its own process, as cheap per request as a server can be


@contextmanager
def bench_stack(name: str, *, latency_ms: float = 0, **env: str) -> Iterator[Stack]:
    """A migrated database, a redis-server and a fake Twilio answering in `latency_ms`;
    `env` adds or overrides settings. Everything is stopped and dropped on exit."""
    tmp = Path(f"/tmp/reminders-{name}-{uuid.uuid4().hex[:8]}")
    tmp.mkdir()
    admin = make_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    dbname = f"reminders_{name}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{dbname}"'))
    url = admin.url.set(database=dbname).render_as_string(hide_password=False)
    engine = make_engine(url)
    redis_proc = twilio = None
    try:
        upgrade(engine)
        port = free_port()
        redis_proc = start_redis(port, tmp / "redis.log")
        twilio = LeanTwilio(latency=latency_ms / 1000).__enter__()
        settings = {
            "REMINDERS_DATABASE_URL": url,
            "REMINDERS_BROKER_URL": f"redis://127.0.0.1:{port}/0",
            "REMINDERS_VAR_DIR": str(tmp / "var"),
            "TWILIO_ACCOUNT_SID": twilio.account_sid,
            "TWILIO_AUTH_TOKEN": twilio.auth_token,
            "TWILIO_FROM_NUMBER": "+18055550100",
            "TWILIO_API_BASE_URL": twilio.url,
            "REMINDERS_SMS_RATE_PER_SECOND": "100000",
            **env,
        }
        yield Stack(env=settings, tmp=tmp, engine=engine, twilio=twilio)
    finally:
        if twilio is not None:
            twilio.__exit__(None, None, None)
        if redis_proc is not None:
            redis_proc.kill()
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
        admin.dispose()


def make_due_rows(env: dict[str, str], n: int) -> None:
    """n texts due now, one each for n texters in a daytime zone (the SMS cap counts per
    phone at send time, so each text needs its own phone)."""
    c = bootstrap(Settings(**env))
    with c.engine.begin() as conn:
        names = "scheduled_messages, consents, enrollments, patients"
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    due_texts_for_many(c.engine, n, now=datetime.now(UTC), tag=f"bench{n}")
    c.engine.dispose()


def start_beat(env: dict[str, str], tmp: Path, tag: str) -> subprocess.Popen[bytes]:
    """Celery beat with its own schedule file (a fresh one per tag)."""
    return start_celery("beat", env, tmp / f"beat-{tag}.log", "-s", str(tmp / f"b-{tag}"))


def start_workers(
    env: dict[str, str], tmp: Path, tag: str, concurrency: int = 2
) -> list[subprocess.Popen[bytes]]:
    """A worker per queue, as `reminders run` starts them: control (1 process), then sends."""
    procs = []
    for queue, c in (("control", 1), ("sends", concurrency)):
        args = ("-Q", queue, "-n", f"{queue}@%h", "--concurrency", str(c))
        procs.append(start_celery("worker", env, tmp / f"{queue}-{tag}.log", *args))
    return procs


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        kill_group(p)


def rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants, in KiB."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            todo.extend(int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total
