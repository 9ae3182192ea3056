"""The one writer of sms_opt_outs: which phones said STOP (or the carrier did), and START."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from reminders.adapters.db.orm import sms_opt_outs
from reminders.adapters.db.sql_sets import among

O = sms_opt_outs  # noqa: E741


class OptOutRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def opt_out(self, phone: str, *, source: str, detail: str, now: datetime) -> None:
        """Record that a phone opted out of SMS (the caller cancels its unsent texts)."""
        changed = self.conn.execute(
            update(O)
            .where(O.c.phone == phone)
            .values(
                active=True,
                source=source,
                detail=detail,
                opted_out_at=now,
                opted_in_at=None,
                updated_at=now,
            )
        ).rowcount
        if not changed:
            self.conn.execute(
                insert(O).values(
                    phone=phone,
                    active=True,
                    source=source,
                    detail=detail,
                    opted_out_at=now,
                    updated_at=now,
                )
            )

    def opt_in(self, phone: str, *, keyword: str, now: datetime) -> bool:
        result = self.conn.execute(
            update(O)
            .where(O.c.phone == phone, O.c.active.is_(True))
            .values(active=False, opted_in_at=now, updated_at=now, detail=f"replied {keyword}")
        )
        return bool(result.rowcount)

    def is_opted_out(self, phone: str | None) -> bool:
        if not phone:
            return False
        return bool(self.conn.scalar(select(O.c.active).where(O.c.phone == phone)))

    def opted_out_among(self, phones: Iterable[str]) -> set[str]:
        wanted = sorted({p for p in phones if p})
        if not wanted:
            return set()
        return set(
            self.conn.scalars(
                select(O.c.phone).where(among(self.conn, O.c.phone, wanted), O.c.active.is_(True))
            )
        )
