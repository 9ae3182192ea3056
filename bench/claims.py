"""Claim cost against table size: dispatch's claim of 500 due rows at 10k, 100k and 1M rows.

    .venv/bin/python bench/claims.py                       # 10k, 100k, 1M on both
    .venv/bin/python bench/claims.py --sizes 10000,100000  # quicker

The table holds mostly sent history and 500 rows due now; a claim is what dispatch does
each tick (find due rows, mark them queued, commit). Median of several claims at each
size, on PostgreSQL (a throwaway database) and SQLite (a temporary file); the ratio
1M / 10k is the figure that matters: a claim must not slow down as history grows.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "integration")]

import rows  # noqa: E402
from sqlalchemy import Engine, bindparam, text, update  # noqa: E402

from bench.stack import ADMIN_URL  # noqa: E402
from reminders.adapters.db.engine import make_engine  # noqa: E402
from reminders.adapters.db.migrate import upgrade  # noqa: E402
from reminders.adapters.db.orm import UTCDateTime, scheduled_messages  # noqa: E402
from reminders.adapters.db.unit_of_work import UnitOfWork  # noqa: E402

DUE = 500
COLUMNS = (
    "enrollment_id, revision, step_key, parts, channel, category, first_sms, send_at,"
    " deadline, status, kind, attempts, created_at, updated_at"
)
PICK = (
    ":eid, 1, 's' || CAST(g AS TEXT), 'x', 'sms', 'care', :no, :past, :future,"
    " CASE WHEN g <= :due THEN 'scheduled' ELSE 'sent' END, 'care', 1, :past, :past"
)
SQL = {
    "postgresql": f"INSERT INTO scheduled_messages ({COLUMNS}) "
    f"SELECT {PICK} FROM generate_series(CAST(:lo AS INTEGER), CAST(:hi AS INTEGER)) AS g",
    "sqlite": "WITH RECURSIVE s(g) AS (SELECT :lo UNION ALL SELECT g + 1 FROM s WHERE g < :hi) "
    f"INSERT INTO scheduled_messages ({COLUMNS}) SELECT {PICK} FROM s",
}


def grow(engine: Engine, eid: int, lo: int, hi: int, now: datetime) -> None:
    statement = text(SQL[engine.dialect.name]).bindparams(
        bindparam("past", type_=UTCDateTime), bindparam("future", type_=UTCDateTime)
    )
    with engine.begin() as conn:
        params = {"eid": eid, "lo": lo, "hi": hi, "due": DUE, "no": False}
        conn.execute(
            statement,
            {**params, "past": now - timedelta(hours=1), "future": now + timedelta(days=1)},
        )
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE scheduled_messages"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def claim_ms(engine: Engine, now: datetime, repeats: int) -> float:
    """Median time of a dispatch claim of DUE rows (put back unclaimed between runs)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        with UnitOfWork(engine) as uow:
            ids = uow.message_reads.due(now=now, limit=DUE)
            uow.messages.claim(ids, now=now, lease_until=now + timedelta(seconds=30))
            uow.commit()
        times.append((time.perf_counter() - start) * 1000)
        assert len(ids) == DUE, len(ids)
        with engine.begin() as conn:
            conn.execute(
                update(scheduled_messages)
                .where(scheduled_messages.c.id.in_(ids))
                .values(status="scheduled", lease_until=None)
            )
    return statistics.median(times)


def run(engine: Engine, sizes: list[int], repeats: int) -> list[float]:
    upgrade(engine)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        eid = rows.enrollment(conn, rows.patient(conn))
    done, figures = 0, []
    for size in sizes:
        grow(engine, eid, done + 1, size, now)
        done = size
        claim_ms(engine, now, 2)  # warm the caches and the statement cache
        figures.append(claim_ms(engine, now, repeats))
        print(f"  {engine.dialect.name:10} {size:>9,} rows  claim of {DUE}: {figures[-1]:7.1f} ms")
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    admin = make_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    dbname = f"reminders_claims_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{dbname}"'))
    results = {}
    try:
        pg = make_engine(admin.url.set(database=dbname).render_as_string(hide_password=False))
        results["postgresql"] = run(pg, sizes, args.repeats)
        pg.dispose()
        with tempfile.TemporaryDirectory() as tmp:
            lite = make_engine(f"sqlite:///{tmp}/claims.db")
            results["sqlite"] = run(lite, sizes, args.repeats)
            lite.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
    for name, figures in results.items():
        print(f"{name:10} ratio {sizes[-1]:,} / {sizes[0]:,} rows: {figures[-1] / figures[0]:.2f}x")


if __name__ == "__main__":
    main()
