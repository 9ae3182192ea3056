"""Migrations build exactly the schema the code declares, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from reminders.adapters.db.migrate import is_current, upgrade
from reminders.adapters.db.orm import metadata


def test_migrated_schema_matches_the_tables_in_code(engine):
    assert is_current(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == [], f"a migration is missing for: {diff}"


def test_downgrade_to_nothing_and_back(engine):
    upgrade(engine, "head")
    from alembic import command

    from reminders.adapters.db.migrate import alembic_config

    with engine.begin() as conn:
        config = alembic_config(engine)
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    assert not is_current(engine)
    upgrade(engine)
    assert is_current(engine)
