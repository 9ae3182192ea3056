"""Bulk intake (services/enrollments/intake.py): a run per file, one row at a time, resumable, reported."""

from __future__ import annotations

import pytest
from csvfiles import GOOD_AND_BAD, count, run_worker

from reminders.adapters.db.orm import enrollments, import_rows
from reminders.services.enrollments import intake


def test_a_run_a_restart_interrupted_goes_on_where_it_stopped(container, engine, monkeypatch):
    from reminders.services.enrollments.csv_rows import read_csv

    run_id = intake.start_import(
        uow=container.uow(),
        filename="clinic.csv",
        rows=read_csv(GOOD_AND_BAD),
        by="nurse.kim",
        now=container.clock(),
    )
    assert count(engine, import_rows) == 5  # stored before anything is enrolled
    real = intake._enroll_row
    calls = []

    def dies_on_the_third_row(row, **kw):
        calls.append(row.number)
        if len(calls) == 3:
            raise KeyboardInterrupt  # the worker is killed mid-run
        return real(row, **kw)

    monkeypatch.setattr(intake, "_enroll_row", dies_on_the_third_row)
    with pytest.raises(KeyboardInterrupt):
        run_worker(container, run_id)
    monkeypatch.setattr(intake, "_enroll_row", real)
    run, rows = intake.import_report(uow=container.uow(), run_id=run_id)
    assert (run["status"], run["processed"], len(rows)) == ("running", 2, 2)

    summary = run_worker(container, run_id)  # the task, delivered again
    assert (summary.enrolled, summary.duplicates, summary.rejected) == (2, 0, 3)
    run, rows = intake.import_report(uow=container.uow(), run_id=run_id)
    assert (run["status"], run["processed"]) == ("done", 5)
    assert [r["row_number"] for r in rows] == [2, 3, 4, 5, 6]
    assert count(engine, enrollments) == 2

    again = run_worker(container, run_id)  # a finished run is left as it is
    assert (again.enrolled, again.rejected) == (2, 3)
    assert count(engine, import_rows) == 5
