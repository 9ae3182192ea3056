"""Shared fixtures: real databases (SQLite file and PostgreSQL), a fixed clock, a container."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from reminders.adapters.db.engine import make_engine
from reminders.adapters.db.migrate import upgrade
from reminders.adapters.db.orm import metadata
from reminders.bootstrap import Container, bootstrap
from reminders.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN_URL = os.environ.get(
    "REMINDERS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("REMINDERS_TEST_REDIS_URL", "redis://127.0.0.1:6379")


class Clock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        from datetime import timedelta

        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 8, 7, 30, tzinfo=UTC))  # 2026-03-07 23:30 in Los Angeles


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (and xdist worker), dropped after.

    The server is required: a missing PostgreSQL fails the run, it is not skipped.
    """
    admin = make_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"reminders_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # pragma: no cover - the message is the point
        pytest.fail(
            f"PostgreSQL is needed at {POSTGRES_ADMIN_URL} ({exc.__class__.__name__}: {exc});"
            " start it as .ci/run does, or set REMINDERS_TEST_POSTGRES_URL"
        )
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty database of each kind the service supports."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'reminders.db'}")
        upgrade(eng)
    else:
        eng = make_engine(request.getfixturevalue("postgres_url"))
        names = ", ".join(t.name for t in reversed(metadata.sorted_tables))
        with eng.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    yield eng
    eng.dispose()


@pytest.fixture
def settings(tmp_path: Path, engine: Engine) -> Settings:
    return Settings(
        REMINDERS_ENVIRONMENT="test",
        REMINDERS_VAR_DIR=tmp_path / "var",
        REMINDERS_DATABASE_URL=engine.url.render_as_string(hide_password=False),
        REMINDERS_CARE_PLANS_DIR=ROOT / "config" / "care_plans",
        REMINDERS_TEMPLATES_DIR=ROOT / "templates",
    )


@pytest.fixture
def container(settings: Settings, engine: Engine, clock: Clock) -> Container:
    return bootstrap(settings, engine=engine, clock=clock)
