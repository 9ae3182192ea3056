"""The demo journey: a whole plan played on a virtual clock through the real services."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from reminders.adapters.db.orm import scheduled_messages
from reminders.entrypoints.cli.demo import VirtualClock, play
from reminders.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def demo_settings(monkeypatch, tmp_path):
    settings = Settings(
        REMINDERS_VAR_DIR=tmp_path / "var",
        REMINDERS_CARE_PLANS_DIR=ROOT / "config" / "care_plans",
        REMINDERS_TEMPLATES_DIR=ROOT / "templates",
    )
    monkeypatch.setattr("reminders.entrypoints.cli.demo.get_settings", lambda: settings)
    return settings


def stored(folder: Path) -> dict[str, int]:
    engine = create_engine(f"sqlite:///{folder / 'demo.db'}")
    with engine.connect() as conn:
        rows = conn.execute(
            select(scheduled_messages.c.status, func.count()).group_by(scheduled_messages.c.status)
        ).all()
    engine.dispose()
    return {status: n for status, n in rows}


def test_the_demo_plays_every_message_and_sums_up(demo_settings, tmp_path, capsys):
    folder = tmp_path / "demo"
    play(folder, seconds=0, language="en", procedure="kyphoplasty")
    out = capsys.readouterr().out.splitlines()
    assert re.match(
        r"Demo: Alex, kyphoplasty on \w{3} \d\d \w{3} 10:00 P[DS]T \(America/Los_Angeles\);"
        rf" \d+ messages; outbox {re.escape(str(folder / 'outbox'))}$",
        out[0],
    ), out[0]
    played = [line for line in out if line.startswith("day ")]
    assert played[0].startswith("day  0")
    assert any(" SMS   " in line for line in played)
    assert any(" EMAIL subject: " in line for line in played)
    assert not any(line.startswith("[outbox]") for line in out), "one line a message, ours"
    # The summary is what the database holds: nothing left scheduled.
    counts = stored(folder)
    assert "scheduled" not in counts and counts.get("sent", 0) > 0
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    assert out[-1] == f"Done: {summary}"
    assert len(list((folder / "outbox").glob("*.json"))) == counts["sent"]
    announced = int(re.search(r"; (\d+) messages;", out[0])[1])  # type: ignore[index]
    assert len(played) == counts["sent"] == announced  # each message shown once, as it went
    days = [int(line.split()[1]) for line in played]
    assert days == sorted(days)  # in the order the patient receives them


def test_a_second_run_starts_from_scratch_in_spanish(demo_settings, tmp_path, capsys):
    folder = tmp_path / "demo"
    play(folder, seconds=0, language="en", procedure="kyphoplasty")
    first = stored(folder)
    capsys.readouterr()
    play(folder, seconds=0, language="es", procedure="vertebroplasty")
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Demo: Maria, vertebroplasty on ")
    played = [line for line in out if line.startswith("day ")]
    again = stored(folder)
    assert sum(again.values()) == len(played)  # only this journey's messages are stored
    assert sum(first.values()) != sum(again.values())  # a different plan, not the first one
    assert out[-1] == "Done: " + ", ".join(f"{n} {s}" for s, n in sorted(again.items()))


def test_the_virtual_clock_says_what_it_was_told():
    clock = VirtualClock(datetime(2026, 5, 4, tzinfo=UTC))
    clock.now = datetime(2026, 5, 5, tzinfo=UTC)
    assert clock() == datetime(2026, 5, 5, tzinfo=UTC)
