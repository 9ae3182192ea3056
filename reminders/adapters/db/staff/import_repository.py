"""CSV import runs and their rows: what was uploaded, what each row became."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from reminders.adapters.db.orm import import_rows, import_runs

PENDING = "pending"  # an import row stored, not enrolled yet


def _new_id(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


class ImportRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def start(self, *, filename: str, created_by: str, total: int, now: datetime) -> int:
        result = self.conn.execute(
            insert(import_runs).values(
                filename=filename,
                created_by=created_by,
                status="running",
                total=total,
                processed=0,
                enrolled=0,
                duplicates=0,
                rejected=0,
                started_at=now,
            )
        )
        return _new_id(result)

    def add_pending(self, run_id: int, rows: list[tuple[int, str, str]]) -> None:
        """Store the rows of a file before any is enrolled: (line, patient, values as JSON).

        A pending row keeps the file's values in `message` until its outcome replaces
        them, so a worker that restarts picks the run up where it stopped.
        """
        if rows:
            self.conn.execute(
                insert(import_rows),
                [
                    {
                        "run_id": run_id,
                        "row_number": number,
                        "outcome": PENDING,
                        "patient": patient[:220],
                        "message": values,
                        "source_values": values,
                    }
                    for number, patient, values in rows
                ],
            )

    def rejected(self, run_id: int) -> list[tuple[int, str | None, str | None, str | None]]:
        """The rejected rows, in file order: (line, values as JSON, field, why)."""
        result = self.conn.execute(
            select(
                import_rows.c.row_number,
                import_rows.c.source_values,
                import_rows.c.field,
                import_rows.c.message,
            )
            .where(import_rows.c.run_id == run_id, import_rows.c.outcome == "rejected")
            .order_by(import_rows.c.row_number)
        )
        return [(r.row_number, r.source_values, r.field, r.message) for r in result]

    def pending(self, run_id: int) -> list[tuple[int, str]]:
        """The rows not enrolled yet, in file order: (line, values as JSON)."""
        result = self.conn.execute(
            select(import_rows.c.row_number, import_rows.c.message)
            .where(import_rows.c.run_id == run_id, import_rows.c.outcome == PENDING)
            .order_by(import_rows.c.row_number)
        )
        return [(r.row_number, r.message or "{}") for r in result]

    def record(
        self,
        run_id: int,
        *,
        row_number: int,
        outcome: str,
        patient: str,
        enrollment_id: int | None = None,
        field: str | None = None,
        message: str | None = None,
    ) -> bool:
        """Write a pending row's outcome and count it; False if it was recorded already."""
        done = self.conn.execute(
            update(import_rows)
            .where(
                import_rows.c.run_id == run_id,
                import_rows.c.row_number == row_number,
                import_rows.c.outcome == PENDING,
            )
            .values(
                outcome=outcome,
                patient=patient[:220],
                enrollment_id=enrollment_id,
                field=field[:40] if field else None,
                message=message,
            )
        )
        if done.rowcount != 1:
            return False  # another worker got there first (a redelivered task)
        counter = {"enrolled": "enrolled", "duplicate": "duplicates", "rejected": "rejected"}
        column = import_runs.c[counter[outcome]]
        self.conn.execute(
            update(import_runs)
            .where(import_runs.c.id == run_id)
            .values({column: column + 1, import_runs.c.processed: import_runs.c.processed + 1})
        )
        return True

    def finish(self, run_id: int, *, now: datetime, error: str | None = None) -> None:
        self.conn.execute(
            update(import_runs)
            .where(import_runs.c.id == run_id)
            .values(status="failed" if error else "done", error=error, finished_at=now)
        )

    def get(self, run_id: int) -> dict[str, Any] | None:
        row = self.conn.execute(select(import_runs).where(import_runs.c.id == run_id)).first()
        return dict(row._mapping) if row else None

    def rows(self, run_id: int) -> list[dict[str, Any]]:
        result = self.conn.execute(
            select(import_rows)
            .where(import_rows.c.run_id == run_id, import_rows.c.outcome != PENDING)
            .order_by(import_rows.c.row_number)
        )
        return [dict(r._mapping) for r in result]

    def recent(self, *, limit: int = 20) -> list[dict[str, Any]]:
        result = self.conn.execute(
            select(import_runs).order_by(import_runs.c.id.desc()).limit(limit)
        )
        return [dict(r._mapping) for r in result]
