"""Enrollment throughput: the audited use case (service layer) and the REST API, on PostgreSQL.

    .venv/bin/python bench/enroll.py                 # 1,000 each
    .venv/bin/python bench/enroll.py --count 300

Each enrollment is a new patient after a kyphoplasty with SMS and email consent: the
patient, consent, its ~30 planned messages and the audit entry in one transaction. The
REST figure goes through the whole web app in process (FastAPI's TestClient: routing,
token check, validation, JSON), one request at a time, without a network hop.
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
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "integration")]

from sqlalchemy import text  # noqa: E402
from webtools import client, token  # noqa: E402

from bench.stack import ADMIN_URL  # noqa: E402
from reminders.adapters.db import make_engine  # noqa: E402
from reminders.adapters.migrate import upgrade  # noqa: E402
from reminders.bootstrap import bootstrap  # noqa: E402
from reminders.domain.commands import EnrollPatient, GiveConsent  # noqa: E402
from reminders.domain.model import Channel  # noqa: E402
from reminders.services import enrollment as enroll_svc  # noqa: E402
from reminders.settings import Settings  # noqa: E402


def command(n: int, performed: datetime) -> EnrollPatient:
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


def report(name: str, latencies: list[float], wall: float) -> None:
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(
        f"  {name:28} {len(latencies) / wall:7.0f} /s   p50 "
        f"{statistics.median(latencies) * 1000:5.1f} ms  p99 {p99:5.1f} ms  ({len(latencies)})"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=1000)
    args = ap.parse_args()
    admin = make_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    dbname = f"reminders_enroll_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{dbname}"'))
    url = admin.url.set(database=dbname).render_as_string(hide_password=False)
    try:
        engine = make_engine(url)
        upgrade(engine)
        c = bootstrap(Settings(REMINDERS_DATABASE_URL=url), engine=engine)
        performed = datetime.now(UTC) - timedelta(hours=2)
        latencies: list[float] = []
        start = time.perf_counter()
        for n in range(args.count):
            t = time.perf_counter()
            enroll_svc.enroll(
                command(n, performed), uow=c.uow(), planning=c.planning, now=c.clock(), via="bench"
            )
            latencies.append(time.perf_counter() - t)
        report("audited use case (service)", latencies, time.perf_counter() - start)

        api = client(c)
        api.headers.update(token(c))
        latencies = []
        start = time.perf_counter()
        for n in range(args.count, 2 * args.count):
            body = {
                "first_name": "Pat",
                "last_name": f"Bench{n}",
                "phone": f"+1805{6000000 + n:07d}",
                "email": f"pat{n}@example.org",
                "procedure": "kyphoplasty",
                "performed_at": performed.isoformat(),
                "timezone": "America/Los_Angeles",
                "external_id": f"BENCH-{n}",
                "consents": [{"channel": "sms"}, {"channel": "email"}],
            }
            t = time.perf_counter()
            r = api.post("/api/v1/enrollments", json=body)
            latencies.append(time.perf_counter() - t)
            assert r.status_code == 201, r.text
        report("REST POST /api/v1/enrollments", latencies, time.perf_counter() - start)
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
