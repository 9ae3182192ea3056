"""Database engines (adapters/db/engine.py): SQLite made safe for one writer; PostgreSQL as given."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from reminders.adapters.db.engine import make_engine
from reminders.adapters.db.migrate import upgrade


def test_an_embedded_database_gets_its_folder_wal_and_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'nested' / 'reminders.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert (tmp_path / "var" / "nested" / "reminders.db").exists()
    engine.dispose()


def test_sqlite_refuses_a_row_pointing_at_nothing(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'reminders.db'}")
    upgrade(engine)
    with pytest.raises(IntegrityError, match="FOREIGN KEY"), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO consents (enrollment_id, channel, given, method, recorded_by, recorded_at,"
                " more_frequent_sms)"
                " VALUES (424242, 'sms', 1, 'verbal', 'x', '2026-03-08', 0)"
            )
        )
    engine.dispose()


@pytest.mark.postgres
def test_postgresql_connections_are_checked_before_use(postgres_url):
    engine = make_engine(postgres_url)
    assert engine.pool._pre_ping  # a restarted server costs one retry, not an error page
    with engine.connect() as conn:
        assert conn.execute(text("select 1")).scalar() == 1
    engine.dispose()


def test_postgresql_statements_are_bounded_by_a_timeout(postgres_url):
    engine = make_engine(postgres_url)
    with engine.connect() as conn:
        assert conn.execute(text("show statement_timeout")).scalar() == "1min"
    engine.dispose()


def test_a_postgresql_server_that_never_answers_fails_within_seconds():
    """A frozen server (SIGSTOP) completes TCP but never speaks: without connect_timeout the
    web request or the worker hangs for good, and the inbound spool never gets its turn."""
    frozen = socket.socket()
    frozen.bind(("127.0.0.1", 0))
    frozen.listen(8)  # the kernel completes the handshake; nobody ever reads or writes
    port = frozen.getsockname()[1]
    engine = make_engine(f"postgresql+psycopg://reminders@127.0.0.1:{port}/frozen")
    outcome: list[BaseException] = []

    def connect() -> None:
        try:
            engine.connect().close()
        except BaseException as exc:
            outcome.append(exc)

    started = time.monotonic()
    worker = threading.Thread(target=connect, daemon=True)
    worker.start()
    worker.join(20)
    waited = time.monotonic() - started
    frozen.close()
    assert not worker.is_alive(), "a connection to a frozen server hung for 20 s"
    assert outcome and isinstance(outcome[0], OperationalError)
    assert waited < 15
