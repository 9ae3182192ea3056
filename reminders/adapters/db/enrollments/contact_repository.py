"""Who a phone or an enrollment belongs to, and what the patient consented to (reads only)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, func, select

from reminders.adapters.db.enrollments.caregiver_repository import CaregiverRepository
from reminders.adapters.db.orm import consents, enrollments, patients
from reminders.domain.model import Channel


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
    caregiver: str | None = None  # the caregiver's name when the phone is the caregiver's


class ContactRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def match_phone(self, phone: str) -> PhoneMatch | None:
        """The patient with this phone; else the patient whose caregiver has it (marked so,
        in the caregiver's language: a reply to a caregiver is written for the caregiver)."""
        found = self._contact(patients.c.phone == phone)
        if found is not None:
            return found
        enrollment_id = CaregiverRepository(self.conn).enrollment_for_phone(phone)
        if enrollment_id is None:
            return None
        caregiver = CaregiverRepository(self.conn).get(enrollment_id)
        patient = self._contact(enrollments.c.id == enrollment_id)
        if patient is None or caregiver is None:  # pragma: no cover - the join found both
            return None
        return replace(patient, caregiver=caregiver.name, language=caregiver.language)

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


def full_name(first: str | None, last: str | None) -> str:
    """A patient's name as staff read it, from whichever parts are known."""
    return " ".join(p for p in (first, last) if p)
