"""CSV intake: store a file's rows as an import run, then enroll them row by row.

A bad row is reported and skipped; it never blocks the good ones. Every row goes
through the same audited, idempotent enrollment as the other doors, so running a file
twice enrolls nobody twice (the second run reports those rows as already enrolled). The
rows are stored before any is enrolled and each keeps its outcome, so a run that a
restart interrupted goes on from the first row without one (see run_import).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import InterfaceError, OperationalError

from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.domain.errors import ReminderError
from reminders.services.enrollments import enrollment
from reminders.services.enrollments.bundles import Planning
from reminders.services.enrollments.csv_rows import CsvRow, row_command

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RowOutcome:
    row_number: int
    outcome: str  # enrolled | duplicate | rejected
    patient: str
    enrollment_id: int | None = None
    field: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class ImportSummary:
    run_id: int
    enrolled: int
    duplicates: int
    rejected: int


def start_import(
    *, uow: UnitOfWork, filename: str, rows: list[CsvRow], by: str, now: datetime
) -> int:
    """Store a new import run with its rows and return its id (run_import enrolls them)."""
    with uow:
        run_id = uow.imports.start(
            filename=filename[:255], created_by=by[:120], total=len(rows), now=now
        )
        uow.imports.add_pending(run_id, [(r.number, r.patient, json.dumps(r.values)) for r in rows])
        uow.commit()
        return run_id


def run_import(
    run_id: int,
    *,
    uow: UnitOfWork,
    planning: Planning,
    clock: Callable[[], datetime],
    default_timezone: str,
    on_row: Callable[[RowOutcome], None] | None = None,
) -> ImportSummary:
    """Enroll each row not enrolled yet, in its own transaction, and record what happened.

    Safe to run again for the same run (a redelivered task, a resumed one): rows with an
    outcome are skipped, and a finished run is left as it is.
    """
    with uow:
        run = uow.imports.get(run_id)
        if run is None:
            raise ReminderError(f"no import {run_id}", field="id")
        pending = uow.imports.pending(run_id) if run["status"] == "running" else []
    by = str(run["created_by"])
    try:
        for number, values in pending:
            row = CsvRow(number=number, values=json.loads(values))
            outcome = _enroll_row(
                row,
                uow=uow,
                planning=planning,
                now=clock(),
                by=by,
                via=f"CSV import {run_id}",
                default_timezone=default_timezone,
            )
            with uow:
                recorded = uow.imports.record(
                    run_id,
                    row_number=outcome.row_number,
                    outcome=outcome.outcome,
                    patient=outcome.patient,
                    enrollment_id=outcome.enrollment_id,
                    field=outcome.field,
                    message=outcome.message,
                )
                uow.commit()
            if recorded and on_row is not None:
                on_row(outcome)
    except Exception as exc:
        log.exception("import %s stopped", run_id)
        with uow:
            uow.imports.finish(run_id, now=clock(), error=f"stopped: {exc.__class__.__name__}")
            uow.commit()
        raise
    with uow:
        if pending or run["status"] == "running":
            uow.imports.finish(run_id, now=clock())
        done = uow.imports.get(run_id) or run
        uow.commit()
    return ImportSummary(
        run_id, int(done["enrolled"]), int(done["duplicates"]), int(done["rejected"])
    )


def _enroll_row(
    row: CsvRow,
    *,
    uow: UnitOfWork,
    planning: Planning,
    now: datetime,
    by: str,
    via: str,
    default_timezone: str,
) -> RowOutcome:
    try:
        cmd, unreadable = row_command(row, default_timezone=default_timezone, enrolled_by=by)
        result = enrollment.enroll(
            cmd,
            uow=uow,
            planning=planning,
            now=now,
            via=via,
            unreadable=unreadable,
        )
    except ReminderError as exc:
        return RowOutcome(row.number, "rejected", row.patient, field=exc.field, message=exc.message)
    except (OperationalError, InterfaceError):
        raise  # the database is gone: stop the run rather than reject every row
    except Exception:
        log.exception("import row %s failed", row.number)
        return RowOutcome(
            row.number,
            "rejected",
            row.patient,
            message="could not be enrolled because of an unexpected error (see the server log)",
        )
    return RowOutcome(
        row.number,
        "enrolled" if result.created else "duplicate",
        row.patient,
        enrollment_id=result.enrollment.id,
        message=None if result.created else "already enrolled; nothing changed",
    )


def import_report(
    *, uow: UnitOfWork, run_id: int
) -> tuple[dict[str, object], list[dict[str, object]]]:
    """Return an import run and its rows, for the report page."""
    with uow:
        run = uow.imports.get(run_id)
        if run is None:
            raise ReminderError(f"no import {run_id}", field="id")
        return run, list(uow.imports.rows(run_id))


def recent_imports(*, uow: UnitOfWork) -> list[dict[str, object]]:
    """Return the latest import runs, newest first."""
    with uow:
        return list(uow.imports.recent())
