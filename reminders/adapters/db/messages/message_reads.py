"""Reads of scheduled_messages: what is due, what went out, what a phone was texted.

Only reads: message_repository.py is the one module that writes the table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from reminders.adapters.db.orm import (
    caregivers,
    enrollments,
    notifications,
    patients,
    scheduled_messages,
)
from reminders.adapters.db.sql_sets import among, not_among
from reminders.domain.lifecycles.message import RESENDABLE, UNSENT, WENT_OUT, MessageStatus, Reason
from reminders.domain.model import Channel, ScheduledMessage
from reminders.domain.planning.schedule import SendHistory
from reminders.domain.planning.sms_cap import WEEK

M = scheduled_messages
N = notifications
S = MessageStatus
# Texts that reach (or will reach) the phone, for the SMS cap: not the ones that never
# went (cancelled, skipped, failed) nor the ones the carrier could not deliver.
COUNTED = tuple(s.value for s in (*UNSENT, *WENT_OUT))
CAREGIVER = "caregiver"  # the kind of a caregiver's rows (domain/caregiver.KIND)
WENT_OUT_VALUES = tuple(s.value for s in WENT_OUT)


class MessageReads:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, message_id: int, *, for_update: bool = False) -> ScheduledMessage | None:
        query = select(M).where(M.c.id == message_id)
        if for_update:
            query = query.with_for_update()
        row = self.conn.execute(query).mappings().first()
        return to_message(row) if row else None

    def for_enrollment(self, enrollment_id: int) -> list[ScheduledMessage]:
        rows = self.conn.execute(
            select(M).where(M.c.enrollment_id == enrollment_id).order_by(M.c.send_at, M.c.id)
        ).mappings()
        return [to_message(r) for r in rows]

    def history(self, enrollment_id: int, *, caregiver: bool = False) -> SendHistory:
        """What went out (or may have: `sending`) for this enrollment, over all revisions,
        to the patient (or, with `caregiver`, to the caregiver: another phone, another cap).

        An undelivered text is not planned again (staff may send it again) but, never having
        reached the phone, it does not count for the SMS cap.
        """
        rows = self.conn.execute(
            select(M.c.parts, M.c.channel, M.c.status, M.c.sent_at, M.c.send_at).where(
                M.c.enrollment_id == enrollment_id,
                M.c.status.in_([s.value for s in (*WENT_OUT, S.UNDELIVERED)]),
                (M.c.kind == CAREGIVER) if caregiver else (M.c.kind != CAREGIVER),
            )
        ).all()
        parts = frozenset((key, Channel(r.channel)) for r in rows for key in r.parts.split())
        sms_times = tuple(
            r.sent_at or r.send_at
            for r in rows
            if r.channel == Channel.SMS and r.status != S.UNDELIVERED
        )
        return SendHistory(sent_parts=parts, sms_sent_at=sms_times)

    def pending_resend(self, message_id: int) -> ScheduledMessage | None:
        """The resend of this message, if there is one (whatever became of it)."""
        row = self.conn.execute(select(M).where(M.c.resend_of == message_id)).mappings().first()
        return to_message(row) if row else None

    def sms_times(
        self,
        phones: Iterable[str],
        *,
        around: datetime,
        planned: bool = True,
        exclude: Iterable[int] = (),
    ) -> dict[str, list[datetime]]:
        """Texts to each phone within a week either side of `around`, care texts and check-in
        reminders alike: what the SMS cap counts.

        With `planned`, texts still waiting count too (a new text must leave room for the
        plan); without, only texts that went out (at send time the plan's own texts, which
        were planned to fit together, must not block one another).
        """
        wanted = sorted(set(phones))
        out: dict[str, list[datetime]] = {p: [] for p in wanted}
        if not wanted:
            return out
        lo, hi = around - WEEK - timedelta(days=1), around + WEEK + timedelta(days=1)
        at = func.coalesce(M.c.sent_at, M.c.send_at)
        counted = (
            M.c.channel == Channel.SMS.value,
            M.c.status.in_(COUNTED if planned else WENT_OUT_VALUES),
            at > lo,
            at < hi,
            not_among(self.conn, M.c.id, exclude),
        )
        care = (
            select(patients.c.phone, at)
            .join(enrollments, enrollments.c.patient_id == patients.c.id)
            .join(M, M.c.enrollment_id == enrollments.c.id)
            .where(among(self.conn, patients.c.phone, wanted), M.c.kind != CAREGIVER, *counted)
        )
        to_caregivers = (  # a caregiver's texts count for the caregiver's phone
            select(caregivers.c.phone, at)
            .join(M, M.c.enrollment_id == caregivers.c.enrollment_id)
            .where(among(self.conn, caregivers.c.phone, wanted), M.c.kind == CAREGIVER, *counted)
        )
        sent_at = func.coalesce(N.c.sent_at, N.c.created_at)
        reminders = select(N.c.recipient, sent_at).where(
            among(self.conn, N.c.recipient, wanted),
            N.c.channel == Channel.SMS.value,
            N.c.kind.in_(("checkin_reminder", "silence_nudge")),  # texts to the patient
            N.c.status.in_(COUNTED if planned else WENT_OUT_VALUES),
            sent_at > lo,
            sent_at < hi,
        )
        found = [*self.conn.execute(care), *self.conn.execute(to_caregivers)]
        for phone, when in [*found, *self.conn.execute(reminders)]:
            out[phone].append(when)
        return out

    # -- delivery bookkeeping -------------------------------------------------------------

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

    def due(self, *, now: datetime, limit: int) -> list[int]:
        """Up to `limit` ids due now: scheduled with send_at passed, or queued with an expired
        lease (the broker lost the task). On PostgreSQL rows another dispatcher locked are
        skipped; on SQLite the transaction already holds the only write lock."""
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

    def claimed_provider_ids(self, provider_ids: list[str]) -> set[str]:
        """Which of these provider ids some message already records as its own."""
        if not provider_ids:
            return set()
        return set(
            self.conn.scalars(select(M.c.provider_id).where(M.c.provider_id.in_(provider_ids)))
        )

    def for_provider(self, provider_id: str) -> tuple[int, str, str | None] | None:
        """(id, status, phone it went to) of the care message Twilio knows by this SID."""
        row = self.conn.execute(
            select(M.c.id, M.c.status, M.c.kind, patients.c.phone, caregivers.c.phone.label("cg"))
            .join(enrollments, enrollments.c.id == M.c.enrollment_id)
            .join(patients, patients.c.id == enrollments.c.patient_id)
            .outerjoin(caregivers, caregivers.c.enrollment_id == enrollments.c.id)
            .where(M.c.provider_id == provider_id)
        ).first()
        if row is None:
            return None
        return (row.id, row.status, row.cg if row.kind == CAREGIVER else row.phone)

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


def to_message(m: Mapping[Any, Any]) -> ScheduledMessage:
    return ScheduledMessage(
        id=m["id"],
        enrollment_id=m["enrollment_id"],
        revision=m["revision"],
        step_key=m["step_key"],
        parts=tuple(m["parts"].split()),
        channel=Channel(m["channel"]),
        category=m["category"],
        checkin=m["checkin"],
        first_sms=m["first_sms"],
        send_at=m["send_at"],
        deadline=m["deadline"],
        status=MessageStatus(m["status"]),
        status_reason=m["status_reason"],
        reason_code=Reason(m["reason_code"]) if m["reason_code"] else None,
        kind=m["kind"],
        resend_of=m["resend_of"],
        attempts=m["attempts"],
        provider_id=m["provider_id"],
        error_code=m["error_code"],
        error_message=m["error_message"],
        error_class=m["error_class"],
        body=m["body"],
        last_attempt_at=m["last_attempt_at"],
        sent_at=m["sent_at"],
        delivered_at=m["delivered_at"],
        updated_at=m["updated_at"],
    )


__all__ = ["RESENDABLE", "MessageReads", "to_message"]
