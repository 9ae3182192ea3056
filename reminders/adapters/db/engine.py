"""Database engines: PostgreSQL for production, SQLite (one writer, WAL) as the embedded default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

# PostgreSQL client timeouts (docs/reliability.md): a server that is down, frozen or cut off
# is noticed within seconds instead of hanging a request or a worker for the kernel's TCP
# timeout (minutes), so the inbound spool and the lease checks can act.
POSTGRES_CONNECT_ARGS: dict[str, Any] = {
    "connect_timeout": 5,  # seconds to open a connection
    "keepalives": 1,  # TCP keepalives on an idle or waiting connection:
    "keepalives_idle": 10,  # first probe after 10 s of silence,
    "keepalives_interval": 5,  # then every 5 s,
    "keepalives_count": 3,  # dead after 3 unanswered probes (about 25 s)
    "options": "-c statement_timeout=60000",  # no statement runs longer than a minute
}


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; for SQLite, make the folder and serialize writers safely."""
    parsed = make_url(url)
    # Bound values are patients' names, phones and emails: keep them out of error text.
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() != "sqlite":
        connect_args = {**POSTGRES_CONNECT_ARGS, **kwargs.pop("connect_args", {})}
        return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see below).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front, so a claim (read then update) is
        # atomic across processes: SQLite's "one writer" (docs/rules.md, rule 7).
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
