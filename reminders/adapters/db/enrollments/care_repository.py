"""Staff-side queries and changes: patient search, consent and language changes, metrics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, exists, func, insert, select, update

from reminders.adapters.db.enrollments.patient_search import (
    PatientQuery,
    filtered,
    next_send,
    open_red_flags,
    opted_out,
    ordered,
    problems,
)
from reminders.adapters.db.orm import (
    checkin_answers,
    checkins,
    consents,
    enrollments,
    escalations,
    inbound_messages,
    patients,
    scheduled_messages,
    sms_opt_outs,
)
from reminders.domain.model import UNSENT, Channel, Consent


@dataclass(frozen=True)
class EnrollmentSummary:
    id: int
    first_name: str
    last_name: str
    phone: str | None
    email: str | None
    timezone: str
    procedure: str
    performed_at: datetime
    external_id: str | None
    status: str
    next_send_at: datetime | None
    problems: int  # failed or undelivered messages
    red_flag: int = 0  # open red flags
    opted_out: bool = False  # the patient stopped texts


@dataclass(frozen=True)
class PatientPage:
    rows: list[EnrollmentSummary]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class CheckinReply:
    """The patient's answer to one check-in question, as they wrote it."""

    message_id: int
    answer: str  # "0".."10", "yes" or "no"
    answered_at: datetime
    red_flag: bool
    reason: str | None  # why it is a red flag
    text: str  # the reply as the patient typed it


@dataclass(frozen=True)
class OpenRedFlag:
    id: int
    reason: str
    created_at: datetime
    status: str  # open | acknowledged
    answered: bool = False  # raised by a check-in answer (shown on that message), not free text


@dataclass(frozen=True)
class SmsOptOut:
    source: str  # keyword | carrier_21610 | staff
    detail: str | None
    opted_out_at: datetime


class CareRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def search(self, q: PatientQuery, *, now: datetime) -> PatientPage:
        """One page of enrollments matching the query, and how many match in all."""
        next_send_at = next_send()
        query = select(
            enrollments.c.id,
            patients.c.first_name,
            patients.c.last_name,
            patients.c.phone,
            patients.c.email,
            patients.c.timezone,
            enrollments.c.procedure,
            enrollments.c.performed_at,
            enrollments.c.external_id,
            enrollments.c.status,
            next_send_at.label("next_send_at"),
            problems().label("problems"),
            open_red_flags().label("red_flag"),
            opted_out().label("opted_out"),
        ).join(patients, patients.c.id == enrollments.c.patient_id)
        query = filtered(query, q, now=now)
        total = self.conn.scalar(
            filtered(
                select(func.count()).select_from(
                    enrollments.join(patients, patients.c.id == enrollments.c.patient_id)
                ),
                q,
                now=now,
            )
        )
        page = ordered(query, q.sort, next_send_at).limit(q.per_page)
        page = page.offset((q.page - 1) * q.per_page)
        rows = [EnrollmentSummary(**r._mapping) for r in self.conn.execute(page)]
        return PatientPage(rows=rows, total=int(total or 0), page=q.page, per_page=q.per_page)

    def withdraw_consent(self, enrollment_id: int, channel: Channel) -> None:
        self.conn.execute(
            update(consents)
            .where(consents.c.enrollment_id == enrollment_id, consents.c.channel == channel.value)
            .values(given=False)
        )

    def add_consent(self, enrollment_id: int, consent: Consent) -> None:
        self.conn.execute(
            insert(consents).values(
                enrollment_id=enrollment_id,
                channel=consent.channel.value,
                given=consent.given,
                method=consent.method.value,
                recorded_by=consent.recorded_by,
                recorded_at=consent.recorded_at,
                more_frequent_sms=consent.more_frequent_sms,
            )
        )

    def set_language(self, patient_id: int, language: str) -> None:
        self.conn.execute(
            update(patients).where(patients.c.id == patient_id).values(language=language)
        )

    def set_contact(self, patient_id: int, **values: str) -> None:
        """Change the patient's phone or email (an EHR's update)."""
        self.conn.execute(update(patients).where(patients.c.id == patient_id).values(**values))

    def answer_since(
        self, enrollment_id: int, *, kind: str, since: datetime
    ) -> tuple[str, datetime] | None:
        """The patient's newest answer to a check-in of this kind since then: (answer, when)."""
        row = self.conn.execute(
            select(checkin_answers.c.answer, checkin_answers.c.answered_at)
            .where(
                checkin_answers.c.enrollment_id == enrollment_id,
                checkin_answers.c.kind == kind,
                checkin_answers.c.answered_at >= since,
            )
            .order_by(checkin_answers.c.answered_at.desc())
            .limit(1)
        ).first()
        return (row.answer, row.answered_at) if row else None

    def checkin_replies(self, enrollment_id: int) -> dict[int, CheckinReply]:
        """Each answered check-in of the enrollment, by the message that asked it."""
        rows = self.conn.execute(
            select(
                checkins.c.message_id,
                checkin_answers.c.answer,
                checkin_answers.c.answered_at,
                checkin_answers.c.red_flag,
                checkin_answers.c.reason,
                inbound_messages.c.body.label("text"),
            )
            .join(checkin_answers, checkin_answers.c.checkin_id == checkins.c.id)
            .join(inbound_messages, inbound_messages.c.id == checkin_answers.c.inbound_id)
            .where(checkins.c.enrollment_id == enrollment_id)
        )
        return {r.message_id: CheckinReply(**r._mapping) for r in rows}

    def open_red_flags(self, enrollment_id: int) -> list[OpenRedFlag]:
        """Red flags staff have not resolved yet, newest first."""
        rows = self.conn.execute(
            select(
                escalations.c.id,
                escalations.c.reason,
                escalations.c.created_at,
                escalations.c.status,
                exists()
                .where(
                    checkin_answers.c.inbound_id == escalations.c.inbound_id,
                    checkin_answers.c.red_flag.is_(True),
                )
                .label("answered"),
            )
            .where(
                escalations.c.enrollment_id == enrollment_id,
                escalations.c.kind == "red_flag",
                escalations.c.status != "resolved",
            )
            .order_by(escalations.c.created_at.desc())
        )
        return [OpenRedFlag(**{**r._mapping, "answered": bool(r.answered)}) for r in rows]

    def sms_opt_out(self, phone: str | None) -> SmsOptOut | None:
        """The phone's standing opt-out from texts (STOP or the carrier), if any."""
        if not phone:
            return None
        row = self.conn.execute(
            select(sms_opt_outs.c.source, sms_opt_outs.c.detail, sms_opt_outs.c.opted_out_at).where(
                sms_opt_outs.c.phone == phone, sms_opt_outs.c.active.is_(True)
            )
        ).first()
        return SmsOptOut(**row._mapping) if row else None

    def open_items(self) -> int:
        """What waits for staff: unresolved escalations and texts nobody has handled."""
        escalated = self.conn.scalar(select(func.count()).where(escalations.c.status != "resolved"))
        texts = self.conn.scalar(
            select(func.count()).where(
                inbound_messages.c.needs_staff.is_(True), inbound_messages.c.reviewed_at.is_(None)
            )
        )
        return int(escalated or 0) + int(texts or 0)

    def ping(self) -> bool:
        return self.conn.scalar(select(1)) == 1

    def messages_by_status_and_channel(self) -> dict[tuple[str, str], int]:
        rows = self.conn.execute(
            select(
                scheduled_messages.c.status, scheduled_messages.c.channel, func.count()
            ).group_by(scheduled_messages.c.status, scheduled_messages.c.channel)
        )
        return {(r[0], r[1]): int(r[2]) for r in rows}

    def oldest_due(self, now: datetime) -> datetime | None:
        """The send time of the longest-waiting message that is due and not yet sending."""
        return self.conn.scalar(
            select(func.min(scheduled_messages.c.send_at)).where(
                scheduled_messages.c.status.in_([s.value for s in UNSENT]),
                scheduled_messages.c.send_at <= now,
            )
        )
