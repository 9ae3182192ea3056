"""Repositories for server-side staff sessions and the sign-in throttle."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from reminders.adapters.db.orm import login_throttle, staff_sessions
from reminders.domain.staff.sessions import StaffSession, Stage, ThrottleState


class StaffSessionRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self, *, token_hash: str, user_id: int, stage: Stage, client_addr: str | None, now: datetime
    ) -> None:
        self.conn.execute(
            insert(staff_sessions).values(
                token_hash=token_hash,
                user_id=user_id,
                stage=stage.value,
                created_at=now,
                last_seen_at=now,
                client_addr=(client_addr or "")[:64] or None,
            )
        )

    def by_token_hash(self, token_hash: str) -> StaffSession | None:
        row = self.conn.execute(
            select(staff_sessions).where(staff_sessions.c.token_hash == token_hash)
        ).first()
        if row is None:
            return None
        return StaffSession(
            id=row.id,
            user_id=row.user_id,
            stage=Stage(row.stage),
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            ended_at=row.ended_at,
            client_addr=row.client_addr,
            flash=row.flash,
        )

    def flash_of(self, session_id: int) -> str | None:
        """The session's waiting notices (JSON), read fresh."""
        return self.conn.scalar(
            select(staff_sessions.c.flash).where(staff_sessions.c.id == session_id)
        )

    def update(self, session_id: int, **values: Any) -> None:
        self.conn.execute(
            update(staff_sessions).where(staff_sessions.c.id == session_id).values(**values)
        )

    def end(self, session_id: int, *, reason: str, now: datetime) -> None:
        self.conn.execute(
            update(staff_sessions)
            .where(staff_sessions.c.id == session_id, staff_sessions.c.ended_at.is_(None))
            .values(ended_at=now, ended_reason=reason[:32])
        )

    def end_all_for(self, user_id: int, *, reason: str, now: datetime) -> int:
        """End every live session of a user at once; returns how many were live."""
        done = self.conn.execute(
            update(staff_sessions)
            .where(staff_sessions.c.user_id == user_id, staff_sessions.c.ended_at.is_(None))
            .values(ended_at=now, ended_reason=reason[:32])
        )
        return int(done.rowcount or 0)


class LoginThrottleRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, key: str, *, for_update: bool = False) -> ThrottleState | None:
        query = select(login_throttle).where(login_throttle.c.key == key)
        if for_update and self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self.conn.execute(query).first()
        if row is None:
            return None
        return ThrottleState(
            failures=row.failures, window_start=row.window_start, locked_until=row.locked_until
        )

    def put(self, key: str, state: ThrottleState) -> None:
        """Write the state; two requests racing on a new key both land on one row."""
        insert_ = pg_insert if self.conn.dialect.name == "postgresql" else sqlite_insert
        self.conn.execute(
            insert_(login_throttle)
            .values(key=key[:140], failures=0, window_start=state.window_start)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        self.conn.execute(
            update(login_throttle)
            .where(login_throttle.c.key == key[:140])
            .values(
                failures=state.failures,
                window_start=state.window_start,
                locked_until=state.locked_until,
            )
        )

    def clear(self, key: str) -> None:
        self.conn.execute(delete(login_throttle).where(login_throttle.c.key == key[:140]))
