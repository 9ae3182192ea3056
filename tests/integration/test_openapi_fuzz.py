"""Schemathesis fuzzes every operation of the served OpenAPI document: no input gives a 500."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from reminders.adapters.db.engine import make_engine
from reminders.bootstrap import bootstrap
from reminders.entrypoints.web.app import create_app
from reminders.services.staff import api_tokens
from reminders.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
_var = Path(tempfile.mkdtemp(prefix="reminders-fuzz-"))
_settings = Settings(
    REMINDERS_ENVIRONMENT="test",
    REMINDERS_VAR_DIR=_var,
    REMINDERS_DATABASE_URL=f"sqlite:///{_var / 'fuzz.db'}",
    REMINDERS_CARE_PLANS_DIR=ROOT / "config" / "care_plans",
    REMINDERS_TEMPLATES_DIR=ROOT / "templates",
)
_container = bootstrap(
    _settings,
    engine=make_engine(_settings.database_url),
    clock=lambda: datetime(2026, 3, 8, 7, 30, tzinfo=UTC),
)
_, _raw = api_tokens.create_api_token(
    uow=_container.uow(), name="fuzz", by="test", now=_container.clock()
)
AUTH = {"Authorization": f"Bearer {_raw}"}
app = create_app(_container)
schema = schemathesis.openapi.from_asgi("/openapi.json", app, headers=AUTH)


@schema.parametrize()
@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # the same inputs on every run: a failure reproduces
)
def test_no_input_breaks_the_api(case):
    case.call_and_validate(
        headers=AUTH,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
