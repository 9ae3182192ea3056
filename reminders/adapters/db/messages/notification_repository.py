"""Notifications in the database: alerts to on-call staff and check-in reminders to patients.

State changes are conditional UPDATEs on the expected current state, as in
delivery_repository: two beats or a replayed status callback can never both win.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, insert, or_, select, update

from reminders.adapters.db.orm import notifications
from reminders.domain.inbound.escalations import Notification

N = notifications


@dataclass(frozen=True)
class OutgoingNote:
    """A notification with what sending it needs."""

    id: int
    kind: str
    channel: str
    recipient: str
    language: str
    subject: str | None
    body: str
    attempts: int
    created_at: datetime
    checkin_id: int | None
    escalation_id: int | None


class NotificationRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add_notification(self, *, now: datetime, **values: Any) -> int:
        key = self.conn.execute(
            insert(N).values(status="pending", attempts=0, created_at=now, updated_at=now, **values)
        ).inserted_primary_key
        assert key is not None
        return int(key[0])

    def claim_notification(
        self, notification_id: int, *, now: datetime, stale: datetime
    ) -> OutgoingNote | None:
        """Mark one notification `sending` if it is waiting (or was left sending before `stale`)."""
        result = self.conn.execute(
            update(N)
            .where(
                N.c.id == notification_id,
                or_(
                    N.c.status == "pending",
                    and_(N.c.status.in_(["failed", "undelivered"]), N.c.next_attempt_at <= now),
                    and_(N.c.status == "sending", N.c.last_attempt_at < stale),
                ),
            )
            .values(
                status="sending",
                attempts=N.c.attempts + 1,
                last_attempt_at=now,
                next_attempt_at=None,
                updated_at=now,
            )
        )
        if not result.rowcount:
            return None
        r = self.conn.execute(select(N).where(N.c.id == notification_id)).mappings().one()
        return _note(r)

    def notification_sent(self, notification_id: int, *, provider_id: str, now: datetime) -> None:
        self.conn.execute(
            update(N)
            .where(N.c.id == notification_id, N.c.status == "sending")
            .values(
                status="sent",
                provider_id=provider_id,
                sent_at=now,
                error_code=None,
                error_class=None,
                error_message=None,
                updated_at=now,
            )
        )

    def notification_failed(
        self,
        notification_id: int,
        *,
        code: str | None,
        error_class: str,
        error: str,
        retry_at: datetime | None,
        now: datetime,
        status: str = "failed",
        frm: Sequence[str] = ("sending",),
    ) -> bool:
        result = self.conn.execute(
            update(N)
            .where(N.c.id == notification_id, N.c.status.in_(list(frm)))
            .values(
                status=status,
                error_code=code,
                error_class=error_class,
                error_message=error,
                next_attempt_at=retry_at,
                updated_at=now,
            )
        )
        return bool(result.rowcount)

    def due_notifications(
        self, *, now: datetime, pending_before: datetime, stale: datetime
    ) -> list[int]:
        """Alerts to (re)send: left pending by a crash, failed and due again, or stuck sending."""
        return list(
            self.conn.scalars(
                select(N.c.id)
                .where(
                    N.c.kind == "oncall_alert",
                    or_(
                        and_(N.c.status == "pending", N.c.created_at <= pending_before),
                        and_(N.c.status.in_(["failed", "undelivered"]), N.c.next_attempt_at <= now),
                        and_(N.c.status == "sending", N.c.last_attempt_at < stale),
                    ),
                )
                .order_by(N.c.id)
                .limit(100)
            )
        )

    def notification_by_provider(self, provider_id: str) -> tuple[int, str, str, datetime] | None:
        """(id, kind, status, created_at) of the notification Twilio knows by this SID."""
        row = self.conn.execute(
            select(N.c.id, N.c.kind, N.c.status, N.c.created_at).where(
                N.c.provider_id == provider_id
            )
        ).first()
        return (row.id, row.kind, row.status, row.created_at) if row else None

    def advance_notification(
        self, notification_id: int, *, frm: Sequence[str], now: datetime, **values: Any
    ) -> bool:
        result = self.conn.execute(
            update(N)
            .where(N.c.id == notification_id, N.c.status.in_(list(frm)))
            .values(updated_at=now, **values)
        )
        return bool(result.rowcount)

    def pages_of(self, escalation_id: int) -> list[OutgoingNote]:
        """The first page's alerts of an escalation: what later rungs send again."""
        rows = self.conn.execute(
            select(N)
            .where(N.c.escalation_id == escalation_id, or_(N.c.step == "page", N.c.step.is_(None)))
            .order_by(N.c.id)
        ).mappings()
        return [_note(r) for r in rows]

    def for_escalations(self, escalation_ids: Sequence[int]) -> dict[int, list[Notification]]:
        """The notifications of each of these escalations, oldest first."""
        if not escalation_ids:
            return {}
        out: dict[int, list[Notification]] = {}
        rows = self.conn.execute(
            select(N).where(N.c.escalation_id.in_(list(escalation_ids))).order_by(N.c.id)
        ).mappings()
        for r in rows:
            out.setdefault(r["escalation_id"], []).append(
                Notification(
                    id=r["id"],
                    kind=r["kind"],
                    channel=r["channel"],
                    recipient=r["recipient"],
                    status=r["status"],
                    attempts=r["attempts"],
                    error_code=r["error_code"],
                    error_class=r["error_class"],
                    error_message=r["error_message"],
                    next_attempt_at=r["next_attempt_at"],
                    sent_at=r["sent_at"],
                    step=r["step"],
                    created_at=r["created_at"],
                )
            )
        return out


def _note(r: Any) -> OutgoingNote:
    return OutgoingNote(
        id=r["id"],
        kind=r["kind"],
        channel=r["channel"],
        recipient=r["recipient"],
        language=r["language"],
        subject=r["subject"],
        body=r["body"],
        attempts=r["attempts"],
        created_at=r["created_at"],
        checkin_id=r["checkin_id"],
        escalation_id=r["escalation_id"],
    )
