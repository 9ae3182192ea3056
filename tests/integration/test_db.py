"""Database engines (adapters/db/engine.py): SQLite made safe for one writer; PostgreSQL as given."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

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
