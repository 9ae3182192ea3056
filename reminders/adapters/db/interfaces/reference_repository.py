"""The enrollment_refs table: other names an EHR uses for an enrollment (a Procedure's id)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from reminders.adapters.db.orm import enrollment_refs

R = enrollment_refs


class ReferenceRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, ref: str, enrollment_id: int) -> None:
        """Remember the reference; one already taken keeps its first enrollment."""
        if self.conn.dialect.name == "postgresql":
            stmt: Any = pg_insert(R).values(ref=ref, enrollment_id=enrollment_id)
        else:
            stmt = sqlite_insert(R).values(ref=ref, enrollment_id=enrollment_id)
        self.conn.execute(stmt.on_conflict_do_nothing(index_elements=["ref"]))

    def enrollment_for(self, ref: str) -> int | None:
        return self.conn.scalar(select(R.c.enrollment_id).where(R.c.ref == ref))
