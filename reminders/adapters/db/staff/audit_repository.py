"""The audit log's one writer: append-only, each row chained to the one before it by a keyed hash."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Connection, func, insert, select, text

from reminders.adapters.db.orm import audit_log
from reminders.domain.staff.accounts import AuditEntry
from reminders.domain.staff.audit_chain import GENESIS, ChainedRow, row_hash

# Any fixed number: PostgreSQL writers of the audit log take turns on this lock.
_CHAIN_LOCK = 7_310_001


class AuditRepository:
    """Adds and reads audit rows; there is deliberately no update and no delete."""

    def __init__(self, conn: Connection, key: bytes | None = None) -> None:
        self.conn = conn
        self.key = key  # the chain's HMAC key (None: plain SHA-256, as before it was keyed)
        self._pending: list[AuditEntry] = []
        self.head: tuple[int, str, datetime] | None = None  # the last row flush() wrote

    def add(self, entry: AuditEntry) -> None:
        """Queue a row; it is written by flush(), just before the transaction commits.

        Writers must take turns, or two rows would link to the same predecessor. Taking
        that turn last, at commit, keeps it short and means a transaction never waits for
        other locks while holding it (no deadlock with row locks taken earlier).
        """
        self._pending.append(entry)

    def flush(self) -> None:
        """Append the queued rows, each linked to the last one (UnitOfWork.commit calls this).

        On PostgreSQL writers take turns on a transaction-scoped advisory lock; on SQLite
        the write lock BEGIN IMMEDIATE holds already does it (adapters/db/engine.py). The id is
        chosen here, under that lock, so it can be part of the hashed content.
        """
        if not self._pending:
            return
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK})
        last = self.conn.execute(
            select(audit_log.c.id, audit_log.c.row_hash).order_by(audit_log.c.id.desc()).limit(1)
        ).first()
        new_id = (last.id + 1) if last else 1
        prev = last.row_hash if last else GENESIS
        rows = []
        for entry in self._pending:
            values = {
                "id": new_id,
                "at": entry.at,
                "actor": entry.actor[:120],
                "action": entry.action[:40],
                "enrollment_id": entry.enrollment_id,
                "detail": entry.detail,
                "client_addr": (entry.client_addr or None) and entry.client_addr[:64],
            }
            digest = row_hash(key=self.key, prev_hash=prev, **values)  # type: ignore[arg-type]
            rows.append({**values, "prev_hash": prev, "row_hash": digest})
            self.head = (new_id, digest, entry.at)
            new_id, prev = new_id + 1, digest
        # One cached statement with the rows as parameters (not a new INSERT built per row).
        self.conn.execute(insert(audit_log), rows)
        self._pending.clear()

    def recent(
        self,
        *,
        limit: int = 200,
        enrollment_id: int | None = None,
        actor: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        offset: int = 0,
    ) -> list[AuditEntry]:
        query = select(audit_log).order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
        if enrollment_id is not None:
            query = query.where(audit_log.c.enrollment_id == enrollment_id)
        if actor:
            query = query.where(audit_log.c.actor == actor)
        if action:
            query = query.where(audit_log.c.action == action)
        if since is not None:
            query = query.where(audit_log.c.at >= since)
        if until is not None:
            query = query.where(audit_log.c.at < until)
        return [
            AuditEntry(
                id=r.id,
                at=r.at,
                actor=r.actor,
                action=r.action,
                enrollment_id=r.enrollment_id,
                detail=r.detail,
                client_addr=r.client_addr,
            )
            for r in self.conn.execute(query.offset(offset).limit(limit))
        ]

    def actions(self) -> list[str]:
        """Every action the log holds, for the audit page's filter."""
        return list(
            self.conn.scalars(select(audit_log.c.action).distinct().order_by(audit_log.c.action))
        )

    def chain(self, *, batch: int = 5000) -> Iterator[ChainedRow]:
        """Every row in id order, read in batches so a long log does not fill memory."""
        after = 0
        while True:
            rows = self.conn.execute(
                select(audit_log)
                .where(audit_log.c.id > after)
                .order_by(audit_log.c.id)
                .limit(batch)
            ).all()
            if not rows:
                return
            for r in rows:
                yield ChainedRow(
                    id=r.id,
                    at=r.at,
                    actor=r.actor,
                    action=r.action,
                    detail=r.detail,
                    enrollment_id=r.enrollment_id,
                    client_addr=r.client_addr,
                    prev_hash=r.prev_hash,
                    row_hash=r.row_hash,
                )
            after = rows[-1].id

    def hash_of(self, row_id: int) -> str | None:
        """The stored hash of one row, or None if there is no such row."""
        return self.conn.scalar(select(audit_log.c.row_hash).where(audit_log.c.id == row_id))

    def last(self) -> tuple[int, str, datetime] | None:
        """The chain's head: the newest row's id, hash and time."""
        row = self.conn.execute(
            select(audit_log.c.id, audit_log.c.row_hash, audit_log.c.at)
            .order_by(audit_log.c.id.desc())
            .limit(1)
        ).first()
        return None if row is None else (row.id, row.row_hash, row.at)

    def count(self) -> int:
        return int(self.conn.scalar(select(func.count()).select_from(audit_log)) or 0)
