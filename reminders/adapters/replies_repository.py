"""Care texts and SMS opt-outs as replies and status reports change them.

State changes are conditional UPDATEs on the expected current state, as in
delivery_repository: a webhook replayed by Twilio can never win twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from reminders.adapters.orm import enrollments, patients, scheduled_messages, sms_opt_outs
from reminders.domain.model import Channel, MessageStatus

M = scheduled_messages
S = MessageStatus
OPT_OUT_REASON = "patient opted out of SMS"  # the prefix delivery_repository writes


class RepliesRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- opting back in --------------------------------------------------------------------

    def opt_in(self, phone: str, *, keyword: str, now: datetime) -> bool:
        result = self.conn.execute(
            update(sms_opt_outs)
            .where(sms_opt_outs.c.phone == phone, sms_opt_outs.c.active.is_(True))
            .values(active=False, opted_in_at=now, updated_at=now, detail=f"replied {keyword}")
        )
        return bool(result.rowcount)

    def restore_sms(self, phone: str, *, now: datetime) -> int:
        """Re-open texts the opt-out cancelled whose time is still ahead (never past ones)."""
        current = (
            select(M.c.id)
            .join(enrollments, enrollments.c.id == M.c.enrollment_id)
            .join(patients, patients.c.id == enrollments.c.patient_id)
            .where(
                patients.c.phone == phone,
                enrollments.c.status == "active",
                M.c.revision == enrollments.c.revision,
                M.c.channel == Channel.SMS.value,
                M.c.status == S.CANCELLED.value,
                M.c.status_reason.startswith(OPT_OUT_REASON),
                M.c.send_at > now,
                M.c.deadline > now,
            )
        )
        result = self.conn.execute(
            update(M)
            .where(M.c.id.in_(current), M.c.status == S.CANCELLED.value)
            .values(
                status=S.SCHEDULED.value,
                status_reason="restored: the patient opted back in",
                lease_until=None,
                updated_at=now,
            )
        )
        return int(result.rowcount)

    # -- delivery status of care messages ------------------------------------------------------

    def message_for_provider(self, provider_id: str) -> tuple[int, str, str | None] | None:
        """(id, status, patient phone) of the care message Twilio knows by this SID."""
        row = self.conn.execute(
            select(M.c.id, M.c.status, patients.c.phone)
            .join(enrollments, enrollments.c.id == M.c.enrollment_id)
            .join(patients, patients.c.id == enrollments.c.patient_id)
            .where(M.c.provider_id == provider_id)
        ).first()
        return (row.id, row.status, row.phone) if row else None

    def advance_message(
        self, message_id: int, *, frm: Sequence[str], now: datetime, **values: Any
    ) -> bool:
        result = self.conn.execute(
            update(M)
            .where(M.c.id == message_id, M.c.status.in_(list(frm)))
            .values(updated_at=now, **values)
        )
        return bool(result.rowcount)

    def unsettled_sms(
        self, *, updated_before: datetime, sent_after: datetime, limit: int
    ) -> list[tuple[int, str]]:
        """Care texts still `sent` (no final report) since before `updated_before`."""
        rows = self.conn.execute(
            select(M.c.id, M.c.provider_id)
            .where(
                M.c.status == S.SENT.value,
                M.c.channel == Channel.SMS.value,
                M.c.provider_id.like("SM%"),
                M.c.updated_at <= updated_before,
                M.c.sent_at >= sent_after,
            )
            .order_by(M.c.updated_at)
            .limit(limit)
        ).all()
        return [(r.id, r.provider_id) for r in rows]

    def touch_message(self, message_id: int, *, now: datetime) -> None:
        self.conn.execute(update(M).where(M.c.id == message_id).values(updated_at=now))
