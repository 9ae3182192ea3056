"""Delivery state in the database: claim due rows, move them through the state machine, opt-outs.

Every change is a conditional UPDATE on the expected current status, so two workers,
two beats or a late duplicate task can never both win.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, insert, select, update

from reminders.adapters.orm import (
    consents,
    enrollments,
    patients,
    scheduled_messages,
    sms_opt_outs,
)
from reminders.adapters.repository import to_message
from reminders.domain.model import Channel, MessageStatus, Patient, ScheduledMessage

M = scheduled_messages
S = MessageStatus


@dataclass(frozen=True)
class SendContext:
    """A message with what deciding to send it needs: who, which plan, consent, opt-out."""

    message: ScheduledMessage
    patient: Patient
    procedure: str
    performed_at: datetime
    levels: int
    overnight: bool
    enrollment_status: str
    consent_given: bool
    opted_out: bool


class DeliveryRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- dispatch --------------------------------------------------------------------

    def in_flight(self, now: datetime) -> int:
        """Queued rows whose lease still holds: enqueued and not yet picked up."""
        return int(
            self.conn.scalar(
                select(func.count())
                .select_from(M)
                .where(M.c.status == S.QUEUED, M.c.lease_until >= now)
            )
            or 0
        )

    def claim_due(self, *, now: datetime, limit: int, lease_until: datetime) -> list[int]:
        """Mark up to `limit` due rows queued with a lease; return their ids.

        Due: scheduled with send_at passed, or queued with an expired lease (the broker
        lost the task). On PostgreSQL rows locked by another dispatcher are skipped; on
        SQLite the transaction already holds the only write lock.
        """
        if limit <= 0:
            return []
        due = (
            select(M.c.id)
            .where(M.c.status == S.SCHEDULED, M.c.send_at <= now)
            .order_by(M.c.send_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        ids = list(self.conn.scalars(due))
        if len(ids) < limit:
            lost = (
                select(M.c.id)
                .where(M.c.status == S.QUEUED, M.c.lease_until < now)
                .order_by(M.c.lease_until)
                .limit(limit - len(ids))
                .with_for_update(skip_locked=True)
            )
            ids.extend(self.conn.scalars(lost))
        if ids:
            self.conn.execute(
                update(M)
                .where(M.c.id.in_(ids), M.c.status.in_([S.SCHEDULED, S.QUEUED]))
                .values(status=S.QUEUED, lease_until=lease_until, updated_at=now)
            )
        return ids

    def next_due_at(self) -> datetime | None:
        """When the earliest scheduled message is due (the demo's clock jumps there)."""
        return self.conn.scalar(select(func.min(M.c.send_at)).where(M.c.status == S.SCHEDULED))

    def expired_sending(self, *, now: datetime, limit: int) -> list[int]:
        """Rows marked sending whose lease ran out: a worker died mid-send."""
        query = (
            select(M.c.id)
            .where(M.c.status == S.SENDING, M.c.lease_until < now)
            .order_by(M.c.lease_until)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(self.conn.scalars(query))

    # -- reading ---------------------------------------------------------------------

    def load(self, message_id: int) -> SendContext | None:
        found = self.load_many([message_id])
        return found[0] if found else None

    def load_many(self, message_ids: list[int]) -> list[SendContext]:
        """Read messages with their patient, consent and opt-out state, in three queries."""
        if not message_ids:
            return []
        rows = (
            self.conn.execute(
                select(
                    M,
                    enrollments.c.status.label("enrollment_status"),
                    enrollments.c.procedure,
                    enrollments.c.performed_at,
                    enrollments.c.levels,
                    enrollments.c.overnight,
                    patients.c.id.label("patient_id"),
                    patients.c.first_name,
                    patients.c.last_name,
                    patients.c.phone,
                    patients.c.email,
                    patients.c.language,
                    patients.c.timezone,
                )
                .join(enrollments, enrollments.c.id == M.c.enrollment_id)
                .join(patients, patients.c.id == enrollments.c.patient_id)
                .where(M.c.id.in_(message_ids))
                .order_by(M.c.send_at, M.c.id)
            )
            .mappings()
            .all()
        )
        enrollment_ids = {r["enrollment_id"] for r in rows}
        consented = {
            (c.enrollment_id, c.channel)
            for c in self.conn.execute(
                select(consents.c.enrollment_id, consents.c.channel).where(
                    consents.c.enrollment_id.in_(enrollment_ids), consents.c.given.is_(True)
                )
            )
        }
        phones = {r["phone"] for r in rows if r["phone"]}
        opted_out = set(
            self.conn.scalars(
                select(sms_opt_outs.c.phone).where(
                    sms_opt_outs.c.phone.in_(phones), sms_opt_outs.c.active.is_(True)
                )
            )
        )
        return [self._context(row, consented, opted_out) for row in rows]

    @staticmethod
    def _context(row: Any, consented: set[tuple[int, str]], opted_out: set[str]) -> SendContext:
        message = to_message(row)
        phone = row["phone"]
        return SendContext(
            message=message,
            patient=Patient(
                id=row["patient_id"],
                first_name=row["first_name"],
                last_name=row["last_name"],
                phone=phone,
                email=row["email"],
                language=row["language"],
                timezone=row["timezone"],
            ),
            procedure=row["procedure"],
            performed_at=row["performed_at"],
            levels=row["levels"],
            overnight=row["overnight"],
            enrollment_status=row["enrollment_status"],
            consent_given=(row["enrollment_id"], message.channel.value) in consented,
            opted_out=message.channel is Channel.SMS and phone in opted_out,
        )

    def is_opted_out(self, phone: str | None) -> bool:
        if not phone:
            return False
        return bool(
            self.conn.scalar(select(sms_opt_outs.c.active).where(sms_opt_outs.c.phone == phone))
        )

    # -- state changes (each returns whether it applied) --------------------------------

    def _move(self, message_id: int, frm: tuple[S, ...], now: datetime, **values: Any) -> bool:
        result = self.conn.execute(
            update(M)
            .where(M.c.id == message_id, M.c.status.in_(frm))
            .values(updated_at=now, **values)
        )
        return bool(result.rowcount)

    def mark_sending(
        self, message_id: int, *, now: datetime, lease_until: datetime, body: str
    ) -> bool:
        return self._move(
            message_id,
            (S.QUEUED,),
            now,
            status=S.SENDING,
            lease_until=lease_until,
            last_attempt_at=now,
            body=body,
            attempts=M.c.attempts + 1,
        )

    def mark_sent(
        self, message_id: int, *, now: datetime, provider_id: str, reason: str | None = None
    ) -> bool:
        return self._move(
            message_id,
            (S.SENDING,),
            now,
            status=S.SENT,
            provider_id=provider_id,
            sent_at=now,
            lease_until=None,
            status_reason=reason,
        )

    def claimed_provider_ids(self, provider_ids: list[str]) -> set[str]:
        """Which of these provider ids some message already records as its own."""
        if not provider_ids:
            return set()
        return set(
            self.conn.scalars(select(M.c.provider_id).where(M.c.provider_id.in_(provider_ids)))
        )

    def mark_sent_many(self, sent: list[tuple[int, str]], *, now: datetime) -> None:
        """Record several provider ids at once (one pipelined statement)."""
        statement = (
            update(M)
            .where(M.c.id == bindparam("mid"), M.c.status == S.SENDING)
            .values(
                status=S.SENT,
                provider_id=bindparam("pid"),
                sent_at=now,
                lease_until=None,
                updated_at=now,
                status_reason=None,
            )
        )
        self.conn.execute(statement, [{"mid": mid, "pid": pid} for mid, pid in sent])

    def unmark_sending(self, message_id: int, *, now: datetime) -> bool:
        """Undo mark_sending for a row that never reached the provider (no token in time)."""
        return self._move(
            message_id,
            (S.SENDING,),
            now,
            status=S.QUEUED,
            lease_until=now,
            attempts=M.c.attempts - 1,
        )

    def mark_retry(
        self,
        message_id: int,
        *,
        now: datetime,
        send_at: datetime,
        code: str | None,
        error: str,
        error_class: str,
        frm: tuple[S, ...] = (S.SENDING,),
    ) -> bool:
        return self._move(
            message_id,
            frm,
            now,
            status=S.SCHEDULED,
            send_at=send_at,
            lease_until=None,
            error_code=code,
            error_message=error,
            error_class=error_class,
            status_reason=f"will try again: {error}",
        )

    def mark_failed(
        self,
        message_id: int,
        *,
        now: datetime,
        code: str | None,
        error: str,
        error_class: str,
        reason: str,
    ) -> bool:
        return self._move(
            message_id,
            (S.SENDING, S.QUEUED),
            now,
            status=S.FAILED,
            lease_until=None,
            error_code=code,
            error_message=error,
            error_class=error_class,
            status_reason=reason,
        )

    def mark_not_sent(self, message_id: int, *, now: datetime, status: S, reason: str) -> bool:
        """Cancel or skip a message that never reached a provider."""
        assert status in (S.CANCELLED, S.SKIPPED)
        return self._move(
            message_id,
            (S.QUEUED, S.SCHEDULED),
            now,
            status=status,
            lease_until=None,
            status_reason=reason,
        )

    def defer(self, message_id: int, *, now: datetime, send_at: datetime, reason: str) -> bool:
        """Put a queued message back to wait (quiet hours at send time)."""
        return self._move(
            message_id,
            (S.QUEUED,),
            now,
            status=S.SCHEDULED,
            send_at=send_at,
            lease_until=None,
            status_reason=reason,
        )

    def release(self, message_id: int, *, now: datetime) -> bool:
        """Let the next dispatch claim it again at once (no rate-limit token in time)."""
        return self._move(message_id, (S.QUEUED,), now, lease_until=now)

    # -- opt-outs ------------------------------------------------------------------------

    def opt_out(self, phone: str, *, source: str, detail: str, now: datetime) -> int:
        """Record that a phone opted out of SMS and cancel every unsent SMS to it."""
        changed = self.conn.execute(
            update(sms_opt_outs)
            .where(sms_opt_outs.c.phone == phone)
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
                insert(sms_opt_outs).values(
                    phone=phone,
                    active=True,
                    source=source,
                    detail=detail,
                    opted_out_at=now,
                    updated_at=now,
                )
            )
        to_phone = (
            select(M.c.id)
            .join(enrollments, enrollments.c.id == M.c.enrollment_id)
            .join(patients, patients.c.id == enrollments.c.patient_id)
            .where(
                patients.c.phone == phone,
                M.c.channel == Channel.SMS.value,
                M.c.status.in_([S.SCHEDULED, S.QUEUED]),
            )
        )
        result = self.conn.execute(
            update(M)
            .where(and_(M.c.id.in_(to_phone), M.c.status.in_([S.SCHEDULED, S.QUEUED])))
            .values(
                status=S.CANCELLED,
                lease_until=None,
                updated_at=now,
                status_reason=f"patient opted out of SMS ({source})",
            )
        )
        return int(result.rowcount)
