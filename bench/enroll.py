"""Enrollment throughput: the audited use case on PostgreSQL and SQLite, and the REST API.

    .venv/bin/python bench/enroll.py                 # 1,000 each
    .venv/bin/python bench/enroll.py --count 300

Each enrollment is a new patient after a kyphoplasty with SMS and email consent: the
patient, consent, its ~30 planned messages and the hash-chained audit entry in one
transaction. The use case is `services/enrollment.enroll`, called one at a time. The
REST figure goes through the whole web app in process (FastAPI's TestClient kept open:
routing, bearer token check, validation, JSON), one request at a time, on PostgreSQL,
without a network hop. Each phase first runs 20 enrollments that are not timed (compile
caches warm). SQL statements are counted with a `before_cursor_execute` listener (the
pool's pre-ping is not a statement and not counted); CPU is this process's own time per
enrollment (the database server's is not in it). The audit chain is verified at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "integration")]

from sqlalchemy import Engine, event, text  # noqa: E402
from webtools import client, token  # noqa: E402

from bench.delivery import ADMIN_URL  # noqa: E402
from reminders.adapters.db import make_engine  # noqa: E402
from reminders.adapters.migrate import upgrade  # noqa: E402
from reminders.bootstrap import Container, bootstrap  # noqa: E402
from reminders.domain.commands import EnrollPatient, GiveConsent  # noqa: E402
from reminders.domain.model import Channel  # noqa: E402
from reminders.services import audit  # noqa: E402
from reminders.services import enrollment as enroll_svc  # noqa: E402
from reminders.settings import Settings  # noqa: E402

WARM = 20
PERFORMED = datetime.now(UTC) - timedelta(hours=2)


def command(n: int, performed: datetime = PERFORMED) -> EnrollPatient:
    return EnrollPatient(
        first_name="Pat",
        last_name=f"Bench{n}",
        phone=f"+1805{6000000 + n:07d}",
        email=f"pat{n}@example.org",
        procedure="kyphoplasty",
        performed_at=performed,
        timezone="America/Los_Angeles",
        consents=(GiveConsent(Channel.SMS), GiveConsent(Channel.EMAIL)),
        enrolled_by="bench",
        external_id=f"BENCH-{n}",
    )


def body(n: int) -> dict[str, Any]:
    return {
        "first_name": "Pat",
        "last_name": f"Bench{n}",
        "phone": f"+1805{6000000 + n:07d}",
        "email": f"pat{n}@example.org",
        "procedure": "kyphoplasty",
        "performed_at": PERFORMED.isoformat(),
        "timezone": "America/Los_Angeles",
        "external_id": f"BENCH-{n}",
        "consents": [{"channel": "sms"}, {"channel": "email"}],
    }


class Statements:
    """Counts the SQL statements an engine sends while `on` is set."""

    def __init__(self, engine: Engine) -> None:
        self.count, self.on = 0, False
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        if self.on:
            self.count += 1


def run(name: str, engine: Engine, first: int, count: int, one: Callable[[int], None]) -> None:
    """Warm up, then time `count` calls of one(n); print rate, p50, p99, SQL and CPU."""
    for n in range(first, first + WARM):
        one(n)
    statements = Statements(engine)
    latencies: list[float] = []
    statements.on = True
    cpu, start = time.process_time(), time.perf_counter()
    for n in range(first + WARM, first + WARM + count):
        t = time.perf_counter()
        one(n)
        latencies.append(time.perf_counter() - t)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    statements.on = False
    latencies.sort()
    p99 = latencies[max(int(len(latencies) * 0.99) - 1, 0)] * 1000
    print(
        f"  {name:36} {count / wall:6.0f} /s   p50 {statistics.median(latencies) * 1000:5.1f} ms"
        f"  p99 {p99:5.1f} ms   {statements.count / count:4.1f} SQL"
        f"   {cpu / count * 1000:4.2f} ms CPU  ({count})"
    )


def use_case(c: Container) -> Callable[[int], None]:
    def one(n: int) -> None:
        enroll_svc.enroll(command(n), uow=c.uow(), planning=c.planning, now=c.clock(), via="bench")

    return one


def check_chain(c: Container) -> None:
    result = audit.verify(uow=c.uow())
    assert result.broken is None, f"audit chain broken: {result.broken}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=1000)
    args = ap.parse_args()
    load = os.getloadavg()
    print(f"bench/enroll.py: {args.count} each, {os.cpu_count()} cores, load {load[0]:.2f}")
    admin = make_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    dbname = f"reminders_enroll_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{dbname}"'))
    url = admin.url.set(database=dbname).render_as_string(hide_password=False)
    try:
        engine = make_engine(url)
        upgrade(engine)
        c = bootstrap(Settings(REMINDERS_DATABASE_URL=url), engine=engine)
        run("audited use case, PostgreSQL", engine, 0, args.count, use_case(c))
        with client(c) as api:
            api.headers.update(token(c))

            def post(n: int) -> None:
                r = api.post("/api/v1/enrollments", json=body(n))
                assert r.status_code == 201, r.text

            run("REST POST /api/v1/enrollments, PG", engine, 100_000, args.count, post)
        check_chain(c)
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
    with tempfile.TemporaryDirectory() as tmp:
        lite = make_engine(f"sqlite:///{tmp}/bench.db")
        upgrade(lite)
        c = bootstrap(Settings(REMINDERS_DATABASE_URL=str(lite.url)), engine=lite)
        run("audited use case, SQLite", lite, 0, args.count, use_case(c))
        check_chain(c)
        lite.dispose()
    print(f"  load average after: {os.getloadavg()[0]:.2f}; the audit chain verified on both")


if __name__ == "__main__":
    main()
