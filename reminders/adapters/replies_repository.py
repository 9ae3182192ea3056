"""Replies in the database: inbound texts, check-ins, answers, escalations and notifications.

State changes are conditional UPDATEs on the expected current state, as in
delivery_repository: two beats, a webhook replayed by Twilio or two staff members
clicking at once can never both win.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from reminders.adapters.orm import (
    checkin_answers,
    checkins,
    consents,
    enrollments,
    escalations,
    inbound_messages,
    notifications,
    patients,
    scheduled_messages,
    sms_opt_outs,
)
from reminders.domain.model import Channel, MessageStatus
from reminders.domain.replies import Escalation, EscalationStatus, InboundText, Notification

M = scheduled_messages
C = checkins
E = escalations
N = notifications
I = inbound_messages  # noqa: E741
S = MessageStatus
ASKED = (S.SENT.value, S.DELIVERED.value)  # a check-in counts once it reached Twilio
OPT_OUT_REASON = "patient opted out of SMS"  # the prefix delivery_repository writes


@dataclass(frozen=True)
class PhoneMatch:
    """The enrollment a phone number belongs to (the newest, preferring active ones)."""

    enrollment_id: int
    enrollment_status: str
    first_name: str
    last_name: str
    language: str
    timezone: str
    email: str | None


@dataclass(frozen=True)
class CheckIn:
    id: int
    message_id: int
    enrollment_id: int
    phone: str
    kind: str
    asked_at: datetime
    status: str
    clarified_at: datetime | None
    reminder_at: datetime | None
    task_at: datetime | None


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


class RepliesRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- inbound texts ---------------------------------------------------------------------

    def inbound_by_sid(self, sid: str) -> InboundText | None:
        found = self._inbound(I.c.message_sid == sid, limit=1)
        return found[0] if found else None

    def add_inbound(self, **values: Any) -> int:
        key = self.conn.execute(insert(I).values(**values)).inserted_primary_key
        assert key is not None
        return int(key[0])

    def update_inbound(self, inbound_id: int, **values: Any) -> None:
        self.conn.execute(update(I).where(I.c.id == inbound_id).values(**values))

    def needing_staff(self, limit: int = 200) -> list[InboundText]:
        return self._inbound(and_(I.c.needs_staff.is_(True), I.c.reviewed_at.is_(None)), limit)

    def inbound_for_enrollment(self, enrollment_id: int, limit: int = 500) -> list[InboundText]:
        return self._inbound(I.c.enrollment_id == enrollment_id, limit)

    def mark_reviewed(self, inbound_id: int, *, by: str, now: datetime) -> bool:
        result = self.conn.execute(
            update(I)
            .where(I.c.id == inbound_id, I.c.reviewed_at.is_(None))
            .values(reviewed_at=now, reviewed_by=by)
        )
        return bool(result.rowcount)

    def inbound_exists(self, inbound_id: int) -> bool:
        return self.conn.scalar(select(I.c.id).where(I.c.id == inbound_id)) is not None

    def _inbound(self, where: Any, limit: int) -> list[InboundText]:
        rows = self.conn.execute(
            select(
                I,
                patients.c.first_name,
                patients.c.last_name,
                patients.c.timezone,
                checkin_answers.c.answer,
            )
            .outerjoin(enrollments, enrollments.c.id == I.c.enrollment_id)
            .outerjoin(patients, patients.c.id == enrollments.c.patient_id)
            .outerjoin(checkin_answers, checkin_answers.c.inbound_id == I.c.id)
            .where(where)
            .order_by(I.c.received_at.desc(), I.c.id.desc())
            .limit(limit)
        ).mappings()
        return [
            InboundText(
                id=r["id"],
                from_phone=r["from_phone"],
                body=r["body"],
                received_at=r["received_at"],
                action=r["action"],
                detail=r["detail"],
                reply=r["reply"],
                needs_staff=r["needs_staff"],
                enrollment_id=r["enrollment_id"],
                patient_name=_name(r["first_name"], r["last_name"]),
                timezone=r["timezone"] or "UTC",
                answer=r["answer"],
                reviewed_at=r["reviewed_at"],
                reviewed_by=r["reviewed_by"],
            )
            for r in rows
        ]

    # -- who a phone belongs to ------------------------------------------------------------

    def match_phone(self, phone: str) -> PhoneMatch | None:
        return self._contact(patients.c.phone == phone)

    def enrollment_contact(self, enrollment_id: int) -> PhoneMatch | None:
        return self._contact(enrollments.c.id == enrollment_id)

    def _contact(self, where: Any) -> PhoneMatch | None:
        row = (
            self.conn.execute(
                select(
                    enrollments.c.id,
                    enrollments.c.status,
                    patients.c.first_name,
                    patients.c.last_name,
                    patients.c.language,
                    patients.c.timezone,
                    patients.c.email,
                )
                .join(patients, patients.c.id == enrollments.c.patient_id)
                .where(where)
                .order_by((enrollments.c.status == "active").desc(), enrollments.c.id.desc())
                .limit(1)
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        return PhoneMatch(
            enrollment_id=row["id"],
            enrollment_status=row["status"],
            first_name=row["first_name"],
            last_name=row["last_name"],
            language=row["language"],
            timezone=row["timezone"],
            email=row["email"],
        )

    def email_consented(self, enrollment_id: int) -> str | None:
        """The patient's email address if they consented to email, else None."""
        return self.conn.scalar(
            select(patients.c.email)
            .join(enrollments, enrollments.c.patient_id == patients.c.id)
            .join(consents, consents.c.enrollment_id == enrollments.c.id)
            .where(
                enrollments.c.id == enrollment_id,
                consents.c.channel == Channel.EMAIL.value,
                consents.c.given.is_(True),
            )
            .limit(1)
        )

    def sms_cap_lifted(self, phone: str) -> bool:
        """Written consent to more texts on an active enrollment of this phone."""
        return bool(
            self.conn.scalar(
                select(func.count())
                .select_from(consents)
                .join(enrollments, enrollments.c.id == consents.c.enrollment_id)
                .join(patients, patients.c.id == enrollments.c.patient_id)
                .where(
                    patients.c.phone == phone,
                    enrollments.c.status == "active",
                    consents.c.channel == Channel.SMS.value,
                    consents.c.given.is_(True),
                    consents.c.method == "written",
                    consents.c.more_frequent_sms.is_(True),
                )
            )
        )

    def sms_times(self, phone: str) -> list[datetime]:
        """When texts to this phone went or will go: plan texts and reminders we sent."""
        planned = select(func.coalesce(M.c.sent_at, M.c.send_at)).where(
            M.c.enrollment_id.in_(
                select(enrollments.c.id)
                .join(patients, patients.c.id == enrollments.c.patient_id)
                .where(patients.c.phone == phone)
            ),
            M.c.channel == Channel.SMS.value,
            M.c.status.not_in([S.CANCELLED.value, S.SKIPPED.value, S.FAILED.value]),
        )
        reminders = select(func.coalesce(N.c.sent_at, N.c.created_at)).where(
            N.c.recipient == phone,
            N.c.channel == Channel.SMS.value,
            N.c.kind == "checkin_reminder",
            N.c.status != "failed",
        )
        return [*self.conn.scalars(planned), *self.conn.scalars(reminders)]

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

    # -- check-ins ------------------------------------------------------------------------------

    def track_checkins(self, *, since: datetime, now: datetime, phone: str | None = None) -> int:
        """Add a check-in row for each check-in text that reached Twilio since `since`."""
        query = (
            select(M.c.id, M.c.enrollment_id, M.c.checkin, M.c.sent_at, patients.c.phone)
            .join(enrollments, enrollments.c.id == M.c.enrollment_id)
            .join(patients, patients.c.id == enrollments.c.patient_id)
            .outerjoin(C, C.c.message_id == M.c.id)
            .where(
                C.c.id.is_(None),
                M.c.checkin.is_not(None),
                M.c.channel == Channel.SMS.value,
                M.c.status.in_(ASKED),
                M.c.sent_at >= since,
                patients.c.phone.is_not(None),
            )
        )
        if phone is not None:
            query = query.where(patients.c.phone == phone)
        added = 0
        for r in self.conn.execute(query).all():
            values = {
                "message_id": r.id,
                "enrollment_id": r.enrollment_id,
                "phone": r.phone,
                "kind": r.checkin,
                "asked_at": r.sent_at,
                "status": "open",
                "updated_at": now,
            }
            added += self._insert_new(values)
        return added

    def _insert_new(self, values: dict[str, Any]) -> int:
        """Insert unless another process just did (the unique message id decides)."""
        dialect = self.conn.dialect.name
        if dialect == "postgresql":
            stmt: Any = pg_insert(C).values(**values).on_conflict_do_nothing()
        elif dialect == "sqlite":
            stmt = sqlite_insert(C).values(**values).on_conflict_do_nothing()
        else:  # pragma: no cover - the two supported databases are above
            stmt = insert(C).values(**values)
        return int(self.conn.execute(stmt).rowcount or 0)

    def latest_checkin(self, phone: str, *, since: datetime) -> CheckIn | None:
        """The newest check-in asked of this phone since `since`, whatever its state."""
        found = self._checkins(
            and_(C.c.phone == phone, C.c.asked_at >= since), order=C.c.asked_at.desc(), limit=1
        )
        return found[0] if found else None

    def checkin(self, checkin_id: int) -> CheckIn | None:
        found = self._checkins(C.c.id == checkin_id, limit=1)
        return found[0] if found else None

    def due_reminders(self, *, asked_before: datetime) -> list[CheckIn]:
        return self._checkins(
            and_(C.c.status == "open", C.c.reminder_at.is_(None), C.c.asked_at <= asked_before)
        )

    def due_tasks(self, *, reminded_before: datetime) -> list[CheckIn]:
        return self._checkins(
            and_(
                C.c.status == "open",
                C.c.task_at.is_(None),
                C.c.reminder_at.is_not(None),
                C.c.reminder_at <= reminded_before,
            )
        )

    def newer_checkin_sent(self, checkin: CheckIn) -> bool:
        """Another check-in text reached this phone after this one."""
        newer = self.conn.scalar(
            select(func.count())
            .select_from(M)
            .join(enrollments, enrollments.c.id == M.c.enrollment_id)
            .join(patients, patients.c.id == enrollments.c.patient_id)
            .where(
                patients.c.phone == checkin.phone,
                M.c.checkin.is_not(None),
                M.c.channel == Channel.SMS.value,
                M.c.status.in_(ASKED),
                M.c.sent_at > checkin.asked_at,
            )
        )
        return bool(newer)

    def set_checkin(
        self, checkin_id: int, *, frm: Sequence[str], now: datetime, **values: Any
    ) -> bool:
        result = self.conn.execute(
            update(C)
            .where(C.c.id == checkin_id, C.c.status.in_(list(frm)))
            .values(updated_at=now, **values)
        )
        return bool(result.rowcount)

    def claim_checkin_step(self, checkin_id: int, column: str, *, now: datetime) -> bool:
        """Set clarified_at / reminder_at / task_at once; False if it was already set."""
        col = C.c[column]
        result = self.conn.execute(
            update(C)
            .where(C.c.id == checkin_id, col.is_(None), C.c.status.in_(["open", "no_answer"]))
            .values({column: now, "updated_at": now})
        )
        return bool(result.rowcount)

    def close_checkins(self, phone: str, *, reason: str, now: datetime) -> int:
        result = self.conn.execute(
            update(C)
            .where(C.c.phone == phone, C.c.status.in_(["open", "no_answer"]))
            .values(status="closed", closed_reason=reason, updated_at=now)
        )
        return int(result.rowcount)

    def _checkins(self, where: Any, order: Any = None, limit: int = 500) -> list[CheckIn]:
        rows = self.conn.execute(
            select(C).where(where).order_by(order if order is not None else C.c.id).limit(limit)
        ).mappings()
        return [
            CheckIn(
                id=r["id"],
                message_id=r["message_id"],
                enrollment_id=r["enrollment_id"],
                phone=r["phone"],
                kind=r["kind"],
                asked_at=r["asked_at"],
                status=r["status"],
                clarified_at=r["clarified_at"],
                reminder_at=r["reminder_at"],
                task_at=r["task_at"],
            )
            for r in rows
        ]

    # -- answers ----------------------------------------------------------------------------

    def add_answer(self, **values: Any) -> None:
        self.conn.execute(insert(checkin_answers).values(**values))

    def previous_pain(self, enrollment_id: int) -> int | None:
        return self.conn.scalar(
            select(checkin_answers.c.pain)
            .where(
                checkin_answers.c.enrollment_id == enrollment_id,
                checkin_answers.c.pain.is_not(None),
            )
            .order_by(checkin_answers.c.answered_at.desc(), checkin_answers.c.id.desc())
            .limit(1)
        )

    # -- escalations ------------------------------------------------------------------------

    def add_escalation(self, **values: Any) -> int:
        key = self.conn.execute(
            insert(E).values(status=EscalationStatus.OPEN.value, notes="", **values)
        ).inserted_primary_key
        assert key is not None
        return int(key[0])

    def escalation_for_checkin(self, checkin_id: int, kind: str) -> int | None:
        return self.conn.scalar(
            select(E.c.id).where(E.c.checkin_id == checkin_id, E.c.kind == kind)
        )

    def set_escalation(
        self, escalation_id: int, *, frm: Sequence[str], now: datetime, **values: Any
    ) -> bool:
        result = self.conn.execute(
            update(E)
            .where(E.c.id == escalation_id, E.c.status.in_(list(frm)))
            .values(updated_at=now, **values)
        )
        return bool(result.rowcount)

    def add_note(self, escalation_id: int, note: str, *, now: datetime) -> None:
        notes = self.conn.scalar(select(E.c.notes).where(E.c.id == escalation_id)) or ""
        self.conn.execute(
            update(E)
            .where(E.c.id == escalation_id)
            .values(notes=f"{notes}\n{note}".strip(), updated_at=now)
        )

    def escalations(
        self,
        *,
        statuses: Sequence[str] | None = None,
        ids: Sequence[int] | None = None,
        limit: int = 200,
    ) -> list[Escalation]:
        query = (
            select(
                E,
                patients.c.first_name,
                patients.c.last_name,
                patients.c.phone,
                patients.c.timezone,
                I.c.body.label("reply"),
            )
            .outerjoin(enrollments, enrollments.c.id == E.c.enrollment_id)
            .outerjoin(patients, patients.c.id == enrollments.c.patient_id)
            .outerjoin(I, I.c.id == E.c.inbound_id)
            .order_by((E.c.kind == "red_flag").desc(), E.c.created_at.desc(), E.c.id.desc())
            .limit(limit)
        )
        if statuses is not None:
            query = query.where(E.c.status.in_(list(statuses)))
        if ids is not None:
            query = query.where(E.c.id.in_(list(ids)))
        rows = list(self.conn.execute(query).mappings())
        notes = self._notifications([r["id"] for r in rows])
        return [
            Escalation(
                id=r["id"],
                kind=r["kind"],
                reason=r["reason"],
                status=EscalationStatus(r["status"]),
                created_at=r["created_at"],
                enrollment_id=r["enrollment_id"],
                patient_name=_name(r["first_name"], r["last_name"]),
                phone=r["phone"],
                timezone=r["timezone"] or "UTC",
                reply=r["reply"],
                notes=r["notes"],
                acknowledged_at=r["acknowledged_at"],
                acknowledged_by=r["acknowledged_by"],
                resolved_at=r["resolved_at"],
                resolved_by=r["resolved_by"],
                notifications=tuple(notes.get(r["id"], ())),
            )
            for r in rows
        ]

    def count_open_escalations(self) -> dict[str, int]:
        rows = self.conn.execute(
            select(E.c.kind, func.count())
            .where(E.c.status != EscalationStatus.RESOLVED.value)
            .group_by(E.c.kind)
        ).all()
        return {kind: int(n) for kind, n in rows}

    # -- notifications ----------------------------------------------------------------------

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

    def _notifications(self, escalation_ids: Sequence[int]) -> dict[int, list[Notification]]:
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
                )
            )
        return out

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


def _name(first: str | None, last: str | None) -> str:
    return " ".join(p for p in (first, last) if p)
