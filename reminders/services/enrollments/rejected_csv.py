"""An import's rejected rows as a CSV file to fix and upload again, with a reason column."""

from __future__ import annotations

import csv
import io
import json
import re

from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.domain.errors import ReminderError
from reminders.services.enrollments.csv_rows import OPTIONAL, REQUIRED

REASON = "reason"
# A number as staff write it (+1 805 555-0142, -3): left alone, so the file uploads again.
_NUMBER = re.compile(r"[+-]?[\d\s().-]*")


def neutralise(cell: str) -> str:
    """Keep a spreadsheet from running a cell as a formula (CSV injection): prefix with '."""
    if cell[:1] in ("=", "@", "\t", "\r") or (
        cell[:1] in ("+", "-") and not _NUMBER.fullmatch(cell)
    ):
        return "'" + cell
    return cell


def rejected_csv(*, uow: UnitOfWork, run_id: int) -> str:
    """The run's rejected rows with the file's columns and why each was refused."""
    with uow:
        if uow.imports.get(run_id) is None:
            raise ReminderError(f"no import {run_id}", field="id")
        rows = uow.imports.rejected(run_id)
    columns = list(REQUIRED + OPTIONAL)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*columns, REASON])
    for number, source, field, message in rows:
        values = json.loads(source) if source else {}
        why = f"line {number}: " + (f"{field}: {message}" if field else message or "rejected")
        writer.writerow([neutralise(str(values.get(c) or "")) for c in columns] + [neutralise(why)])
    # A byte-order mark so spreadsheet programs read the accents (the upload accepts it).
    return "\ufeff" + out.getvalue()
