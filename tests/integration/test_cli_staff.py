"""`reminders staff`, `reminders token` and `reminders import` on a real database."""

from __future__ import annotations

from click.testing import CliRunner
from csvfiles import GOOD_AND_BAD, count
from webtools import PASSWORD, client

from reminders.adapters.db.orm import enrollments, import_rows, scheduled_messages
from reminders.entrypoints.cli.main import main


def test_cli_import_reports_each_row_and_reruns_enroll_nobody_twice(cli_runner, engine, tmp_path):
    path = tmp_path / "procedures.csv"
    path.write_text(GOOD_AND_BAD, encoding="utf-8")
    r = cli_runner.invoke(main, ["import", str(path), "--by", "nurse.kim"])
    assert r.exit_code == 1, r.output  # some rows were rejected
    out = r.output
    assert "[1/5] line 2 Ana Lopez: enrolled as" in out
    assert "line 3 Bo Li: REJECTED phone: '555' is not a valid phone number" in out
    assert "line 4 Cy Diaz: REJECTED procedure: no care plan for 'appendectomy'" in out
    assert "line 5 Di Park: enrolled as" in out
    assert "line 6 Ed Ng: REJECTED performed_at:" in out
    assert "Done: 2 enrolled, 0 already enrolled, 3 rejected." in out
    messages = count(engine, scheduled_messages)
    again = cli_runner.invoke(main, ["import", str(path)])
    assert "Done: 0 enrolled, 2 already enrolled, 3 rejected." in again.output
    assert count(engine, enrollments) == 2
    assert count(engine, scheduled_messages) == messages
    assert count(engine, import_rows) == 10


def test_cli_staff_create_and_token_create(container, monkeypatch):
    monkeypatch.setattr("reminders.entrypoints.cli.staff.container", lambda: container)
    runner = CliRunner()
    r = runner.invoke(
        main,
        ["staff", "create", "Dr.Lee", "--role", "admin", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert r.exit_code == 0, r.output
    assert "Created admin account dr.lee" in r.output
    again = runner.invoke(
        main, ["staff", "create", "dr.lee", "--password-stdin"], input=PASSWORD + "\n"
    )
    assert again.exit_code == 2 and "already a user" in again.output
    short = runner.invoke(main, ["staff", "create", "dr.x", "--password-stdin"], input="short\n")
    assert short.exit_code == 2 and "10 characters" in short.output
    t = runner.invoke(main, ["token", "create", "epic"])
    assert t.exit_code == 0
    raw = t.stdout.strip().splitlines()[-1]
    assert raw.startswith("rr_")
    assert (
        client(container)
        .get("/api/v1/enrollments/9", headers={"Authorization": f"Bearer {raw}"})
        .status_code
        == 404
    )
