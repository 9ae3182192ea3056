"""`reminders oncall check`: the week's coverage in the clinic's zone, and a refused gap."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from reminders.entrypoints.cli.main import main
from reminders.settings import get_settings

GAPPY = (
    '[{"name": "Day RN", "phone": "+18055550101", "start": "07:00", "end": "15:00"},'
    ' {"name": "Night RN", "phone": "+18055550102", "start": "19:00", "end": "07:00"}]'
)


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REMINDERS_CLINIC_TIMEZONE", "America/Los_Angeles")
    monkeypatch.setenv("REMINDERS_ONCALL_ROTA", GAPPY)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def check(*extra: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["oncall", "check", "--from", "2026-12-08T15:13-08:00", *extra])


def test_a_gap_with_no_fallback_is_shown_and_refused(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REMINDERS_ONCALL_PHONE", "")
    r = check()
    assert r.exit_code == 1
    assert "Tue Dec 08 15:13 PST  NOBODY: red flags page no one" in r.output
    assert "Tue Dec 08 19:00 PST  Night RN" in r.output
    assert "Mon Dec 14" in r.output  # seven days
    assert "REFUSED" in r.output and "15:00-19:00" in r.output


def test_a_gap_with_a_fallback_is_covered_by_it(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REMINDERS_ONCALL_PHONE", "+18055550100")
    r = check("--days", "1")
    assert r.exit_code == 0, r.output
    assert "NOBODY in the rota: the fallback +18055550100" in r.output
    assert r.output.strip().endswith("the escalation names who comes on duty next.")
