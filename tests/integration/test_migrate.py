"""Schema migrations (adapters/db/migrate.py): an empty database is created; running again is safe."""

from __future__ import annotations

from sqlalchemy import inspect

from reminders.adapters.db.engine import make_engine
from reminders.adapters.db.migrate import is_current, upgrade


def test_an_empty_database_is_brought_to_the_latest_schema_once(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'reminders.db'}")
    assert not is_current(engine)
    upgrade(engine)
    assert is_current(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"patients", "enrollments", "scheduled_messages", "sms_opt_outs"} <= tables
    upgrade(engine)  # `reminders db upgrade` twice is harmless
    assert is_current(engine)
    engine.dispose()


def test_a_database_at_an_older_revision_is_not_current(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'reminders.db'}")
    upgrade(engine, "0001")
    assert not is_current(engine)
    upgrade(engine)
    assert is_current(engine)
    engine.dispose()
