"""The `reminders` command: every usage error is one line and exit status 2; help works.

The enrollment commands are tested in test_cli_enrollments.py."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from test_cli_enrollments import ENROLL

from reminders.entrypoints.cli import main


@pytest.fixture
def cli(container, monkeypatch):
    monkeypatch.setattr("reminders.entrypoints.cli_enrollments.container", lambda: container)
    return CliRunner()


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


def test_help_still_works(cli):
    r = cli.invoke(main, ["enroll", "--help"])
    assert r.exit_code == 0 and "--first-name" in r.output
