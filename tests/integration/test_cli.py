"""The `reminders` command: enrollment is audited, and every input error is one line + exit 2."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from reminders.adapters.orm import audit_log
from reminders.entrypoints.cli import main

ENROLL = [
    "enroll",
    "--first-name",
    "Ana",
    "--last-name",
    "Lopez",
    "--phone",
    "(805) 555-0142",
    "--procedure",
    "kyphoplasty",
    "--performed-at",
    "2026-03-07T23:30",
    "--timezone",
    "America/Los_Angeles",
    "--consent",
    "sms:verbal",
    "--by",
    "nurse.kim",
]


@pytest.fixture
def cli(container, monkeypatch):
    monkeypatch.setattr("reminders.entrypoints.cli_enrollments.container", lambda: container)
    return CliRunner()


def test_a_cli_enrollment_is_in_the_audit_log(cli, engine):
    r = cli.invoke(main, ENROLL)
    assert r.exit_code == 0, r.output
    assert "Enrolled: enrollment 1" in r.output
    with engine.connect() as conn:
        rows = conn.execute(select(audit_log.c.actor, audit_log.c.action, audit_log.c.detail)).all()
    assert rows == [("nurse.kim", "enrolled", "Ana Lopez, kyphoplasty, via command line")]


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["enroll"], "error: --first-name: is required (see --help)"),
        (["enroll", "--levels", "x"], "error: --levels: 'x' is not a valid integer range."),
        (["nosuch"], "error: No such command 'nosuch'."),
        (
            [*ENROLL[:-2], "--consent", "fax"],
            "error: --consent: 'fax': use sms or email, optionally with :verbal or :written",
        ),
    ],
)
def test_usage_errors_are_one_line_and_status_2(cli, args, line):
    r = cli.invoke(main, args)
    assert r.exit_code == 2
    assert r.stderr == line + "\n"
    assert r.stdout == ""


def test_every_wrong_field_on_one_line(cli, engine):
    args = [*ENROLL]
    args[args.index("(805) 555-0142")] = "805-CALL-NOW"
    args[args.index("2026-03-07T23:30")] = "2026-03-08T02:30"
    r = cli.invoke(main, args)
    assert r.exit_code == 2
    assert r.stderr == (
        "error: phone: '805-CALL-NOW' contains letters; type the phone number in digits, like"
        " (805) 555-0142; performed_at: 2026-03-08 02:30 did not happen in"
        " America/Los_Angeles: the clocks went from 02:00 straight to 03:00 that night"
        " (daylight saving time); check the time, or give it with its UTC offset\n"
    )


def test_help_still_works(cli):
    r = cli.invoke(main, ["enroll", "--help"])
    assert r.exit_code == 0 and "--first-name" in r.output
