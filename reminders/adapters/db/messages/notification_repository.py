"""Notifications in the database: pages to on-call staff, check-in reminders and silence nudges.

They live the same outbound lifecycle as care messages (domain/lifecycles/message.py):
scheduled -> queued -> sending -> sent -> delivered | undelivered | failed, every write a
declared Move on the expected current state and, from `sending` on, on the attempt that
sent it, so two beats, a late task or a replayed status callback can never both win. A
row waits in `scheduled` until `next_attempt_at` (now, for a fresh page; later, for a
retry); a row left `sending` past its lease is settled by asking the provider first
(services/delivery/reconcile.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, insert, or_, select, update

from reminders.adapters.db.orm import notifications
from reminders.domain.inbound.escalations import Notification
from reminders.domain.lifecycles.message import (
    CLAIM,
    DEFER,
    FAIL,
    RENEW,
    RETRY,
    SENT,
    TAKE,
    MessageStatus,
    Move,
    not_sent,
    report,
)
from reminders.domain.outbound.decisions import Kind

N = notifications
S = MessageStatus
ASKING = "no answer from the provider yet: it will be asked before any resend"
STEP_KINDS = {
    "page": Kind.ONCALL_PAGE,
    "repage": Kind.REPAGE,
    "backup": Kind.BACKUP_PAGE,
    "call": Kind.ONCALL_CALL,
}


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
    step: str | None
    status: str
    last_attempt_at: datetime | None
    enrollment_id: int | None
    deadline: datetime | None

    @property
    def send_kind(self) -> Kind:
        """The kind that decides and retries it (domain/outbound/decisions.KINDS)."""
        if self.kind == "oncall_alert":
            return STEP_KINDS[self.step or "page"]
        return Kind(self.kind)


class NotificationRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add_notification(self, *, now: datetime, **values: Any) -> int:
        """A new notification, due now (or at `next_attempt_at` when given)."""
        values.setdefault("next_attempt_at", now)
        key = self.conn.execute(
            insert(N).values(
                status=S.SCHEDULED.value, attempts=0, created_at=now, updated_at=now, **values
            )
        ).inserted_primary_key
        assert key is not None
        return int(key[0])

    def _move(self, where: Any, move: Move, now: datetime, **values: Any) -> int:
        result = self.conn.execute(
            update(N)
            .where(where, N.c.status.in_(move.sources))
            .values(status=move.to.value, updated_at=now, **values)
        )
        return int(result.rowcount)

    def claim_notification(
        self, notification_id: int, *, now: datetime, lease_until: datetime
    ) -> OutgoingNote | None:
        """Claim one due notification (scheduled, or queued with a lapsed lease -> queued);
        None if it is not due or someone else has it."""
        claimed = self._move(
            (N.c.id == notification_id)
            & or_(
                and_(N.c.status == S.SCHEDULED.value, N.c.next_attempt_at <= now),
                and_(N.c.status == S.QUEUED.value, N.c.lease_until < now),
            ),
            CLAIM,
            now,
            lease_until=lease_until,
        )
        if not claimed:
            return None
        r = self.conn.execute(select(N).where(N.c.id == notification_id)).mappings().one()
        return _note(r)

    def take_notification(
        self, notification_id: int, *, now: datetime, lease_until: datetime
    ) -> int | None:
        """Queued -> sending right before the provider call; its attempt number (the fence)."""
        taken = self._move(
            N.c.id == notification_id,
            TAKE,
            now,
            attempts=N.c.attempts + 1,
            last_attempt_at=now,
            next_attempt_at=None,
            lease_until=lease_until,
        )
        if not taken:
            return None
        attempt = self.conn.scalar(select(N.c.attempts).where(N.c.id == notification_id))
        return int(attempt) if attempt is not None else None

    def not_sent(
        self, notification_id: int, *, status: MessageStatus, detail: str, now: datetime
    ) -> bool:
        """Cancel or skip a claimed notification (no consent, STOP, stale, the cap)."""
        return bool(
            self._move(
                N.c.id == notification_id,
                not_sent(status),
                now,
                lease_until=None,
                status_reason=detail,
            )
        )

    def defer(self, notification_id: int, *, until: datetime, detail: str, now: datetime) -> bool:
        """Put a claimed notification back to wait (quiet hours, the cap, no token)."""
        return bool(
            self._move(
                N.c.id == notification_id,
                DEFER,
                now,
                next_attempt_at=until,
                lease_until=None,
                status_reason=detail,
            )
        )

    def notification_sent(
        self, notification_id: int, *, provider_id: str, attempt: int, now: datetime
    ) -> bool:
        """The provider took it (fenced on the attempt that sent it)."""
        return bool(
            self._move(
                (N.c.id == notification_id) & (N.c.attempts == attempt),
                SENT,
                now,
                provider_id=provider_id,
                sent_at=now,
                lease_until=None,
                error_code=None,
                error_class=None,
                error_message=None,
            )
        )

    def notification_failed(
        self,
        notification_id: int,
        *,
        attempt: int,
        code: str | None,
        error_class: str,
        error: str,
        retry_at: datetime | None,
        now: datetime,
        lapsed: bool = False,
    ) -> bool:
        """A failed attempt: tried again at `retry_at` (back to `scheduled`), or failed for
        good. `lapsed`: only while its lease is still lapsed (a reconciler's verdict)."""
        where = (N.c.id == notification_id) & (N.c.attempts == attempt)
        if lapsed:
            where = where & (N.c.lease_until < now)
        values: dict[str, Any] = {
            "error_code": code,
            "error_class": error_class,
            "error_message": error,
            "lease_until": None,
        }
        if retry_at is not None:
            return bool(self._move(where, RETRY, now, next_attempt_at=retry_at, **values))
        return bool(self._move(where, FAIL, now, **values))

    def renew(
        self,
        notification_id: int,
        *,
        attempt: int,
        now: datetime,
        lease_until: datetime,
        error: str | None = None,
    ) -> bool:
        """No answer from the provider: stay `sending` until reconciliation asks it."""
        values: dict[str, Any] = {"lease_until": lease_until}
        if error is not None:
            values |= {"error_message": error, "status_reason": ASKING}
        return bool(
            self._move(
                (N.c.id == notification_id) & (N.c.attempts == attempt), RENEW, now, **values
            )
        )

    def due_notifications(self, *, now: datetime, fresh_before: datetime) -> list[int]:
        """Notifications to (re)send: fresh ones nobody took (a crash, the broker down),
        retries whose time came, and queued ones whose lease lapsed."""
        return list(
            self.conn.scalars(
                select(N.c.id)
                .where(
                    or_(
                        and_(
                            N.c.status == S.SCHEDULED.value,
                            N.c.next_attempt_at <= now,
                            # Due at its creation: its own task has a moment to take it
                            # first. Due later (a retry, a deferral): due at its time.
                            or_(
                                N.c.created_at <= fresh_before, N.c.next_attempt_at > N.c.created_at
                            ),
                        ),
                        and_(N.c.status == S.QUEUED.value, N.c.lease_until < now),
                    ),
                )
                .order_by(N.c.id)
                .limit(100)
            )
        )

    def lapsed_sending(self, *, now: datetime, limit: int = 100) -> list[OutgoingNote]:
        """Rows left `sending` past their lease: a worker died or the provider never answered."""
        rows = self.conn.execute(
            select(N)
            .where(N.c.status == S.SENDING.value, N.c.lease_until < now)
            .order_by(N.c.id)
            .limit(limit)
        ).mappings()
        return [_note(r) for r in rows]

    def claimed_provider_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of these provider ids a notification already owns."""
        if not ids:
            return set()
        return set(self.conn.scalars(select(N.c.provider_id).where(N.c.provider_id.in_(list(ids)))))

    def notification_by_provider(self, provider_id: str) -> OutgoingNote | None:
        """The notification Twilio knows by this SID."""
        row = self.conn.execute(select(N).where(N.c.provider_id == provider_id)).mappings().first()
        return _note(row) if row else None

    def record_report(
        self, notification_id: int, new: MessageStatus, *, now: datetime, **values: Any
    ) -> bool:
        """A provider's delivery report: a status only ever moves forward."""
        return bool(self._move(N.c.id == notification_id, report(new), now, **values))

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
                    status=_shown(r),
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
        step=r["step"],
        status=r["status"],
        last_attempt_at=r["last_attempt_at"],
        enrollment_id=r["enrollment_id"],
        deadline=r["deadline"],
    )


def _shown(r: Any) -> str:
    """The status as staff read it: a page waiting for its next try after a failed attempt
    is shown failed (with that next try), not merely scheduled."""
    if r["status"] == S.SCHEDULED.value and r["attempts"] > 0 and r["error_class"]:
        return S.FAILED.value
    return str(r["status"])
