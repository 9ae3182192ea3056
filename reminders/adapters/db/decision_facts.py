"""Reads a batch of messages with what deciding and sending them needs, in a few queries.

Patient (and caregiver), plan, consent, opt-out and the phone's other texts (for the SMS
cap); writes go through message_repository.py. A `caregiver` row's recipient is the
enrollment's caregiver: its phone, address, language and consent, the patient's zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from reminders.adapters.db.enrollments.caregiver_repository import to_caregiver
from reminders.adapters.db.enrollments.opt_out_repository import OptOutRepository
from reminders.adapters.db.messages.message_reads import MessageReads, to_message
from reminders.adapters.db.orm import (
    caregivers,
    consents,
    enrollments,
    patients,
    scheduled_messages,
)
from reminders.adapters.db.sql_sets import among
from reminders.domain.enrollment.caregiver import KIND, as_recipient
from reminders.domain.model import Caregiver, Channel, ConsentMethod, Patient, ScheduledMessage

M = scheduled_messages


@dataclass(frozen=True)
class DueMessage:
    """A message with who it is for, which plan it belongs to, and its guardrail facts."""

    message: ScheduledMessage
    patient: Patient
    procedure: str
    performed_at: datetime
    levels: int
    overnight: bool
    enrollment_status: str
    consent_given: bool
    opted_out: bool
    cap_lifted: bool = False  # written consent to more texts than the default cap
    # Texts that went out to this phone, outside this batch (the sender adds the batch's
    # own as it decides them, in order).
    other_texts: tuple[datetime, ...] = ()
    caregiver: Caregiver | None = None  # set for a caregiver's row (kind "caregiver")

    @property
    def id(self) -> int:
        assert self.message.id is not None
        return self.message.id

    @property
    def to_caregiver(self) -> bool:
        return self.message.kind == KIND

    @property
    def recipient(self) -> Patient:
        """Who the message goes to: the patient, or the caregiver (in the patient's zone)."""
        if self.to_caregiver and self.caregiver is not None:
            return as_recipient(self.caregiver, timezone=self.patient.timezone)
        return self.patient


class DueMessages:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def load(self, message_id: int, *, now: datetime) -> DueMessage | None:
        found = self.load_many([message_id], now=now)
        return found[0] if found else None

    def load_many(self, message_ids: list[int], *, now: datetime) -> list[DueMessage]:
        """Read messages with patient, consent, opt-out and the phone's other texts."""
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
                    caregivers.c.id.label("cg_id"),
                    caregivers.c.name.label("cg_name"),
                    caregivers.c.relationship.label("cg_relationship"),
                    caregivers.c.phone.label("cg_phone"),
                    caregivers.c.email.label("cg_email"),
                    caregivers.c.language.label("cg_language"),
                    caregivers.c.sms_consent.label("cg_sms_consent"),
                    caregivers.c.email_consent.label("cg_email_consent"),
                )
                .join(enrollments, enrollments.c.id == M.c.enrollment_id)
                .join(patients, patients.c.id == enrollments.c.patient_id)
                .outerjoin(caregivers, caregivers.c.enrollment_id == enrollments.c.id)
                .where(among(self.conn, M.c.id, message_ids))
                .order_by(M.c.send_at, M.c.id)
            )
            .mappings()
            .all()
        )
        given: dict[tuple[int, str], bool] = {}
        for c in self.conn.execute(
            select(
                consents.c.enrollment_id,
                consents.c.channel,
                consents.c.method,
                consents.c.more_frequent_sms,
            ).where(
                among(self.conn, consents.c.enrollment_id, {r["enrollment_id"] for r in rows}),
                consents.c.given.is_(True),
            )
        ):
            lifted = c.method == ConsentMethod.WRITTEN.value and bool(c.more_frequent_sms)
            key = (c.enrollment_id, c.channel)
            given[key] = given.get(key, False) or lifted
        texted = [r for r in rows if r["channel"] == Channel.SMS.value and _phone(r)]
        phones = {p for r in texted if (p := _phone(r))}
        opted_out = OptOutRepository(self.conn).opted_out_among(phones)
        times = MessageReads(self.conn).sms_times(
            phones, around=now, planned=False, exclude=[r["id"] for r in texted]
        )
        return [self._due(r, given, opted_out, times) for r in rows]

    @staticmethod
    def _due(
        row: Any,
        given: dict[tuple[int, str], bool],
        opted_out: set[str],
        times: dict[str, list[datetime]],
    ) -> DueMessage:
        message = to_message(row)
        phone = _phone(row)
        key = (row["enrollment_id"], message.channel.value)
        others: tuple[datetime, ...] = ()
        if message.channel is Channel.SMS and phone:
            others = tuple(times.get(phone, ()))
        caregiver = None
        if row["cg_id"] is not None:
            caregiver = to_caregiver({k[3:]: row[k] for k in row if k.startswith("cg_")})
        consent = key in given
        cap_lifted = given.get((row["enrollment_id"], Channel.SMS.value), False)
        if message.kind == KIND:  # the caregiver's own consent; its cap is never lifted
            consent = caregiver is not None and message.channel in caregiver.channels
            cap_lifted = False
        return DueMessage(
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
            consent_given=consent,
            opted_out=message.channel is Channel.SMS and phone in opted_out,
            cap_lifted=cap_lifted,
            other_texts=others,
            caregiver=caregiver,
        )


def _phone(row: Any) -> str | None:
    """The phone a row's text goes to: the caregiver's for a caregiver row."""
    return row["cg_phone"] if row["kind"] == KIND else row["phone"]
