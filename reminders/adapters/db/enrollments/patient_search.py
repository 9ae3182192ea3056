"""The patient list's query: accent-blind search, filters, sort and one page at a time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, or_, select

from reminders.adapters.db.orm import (
    caregivers,
    enrollments,
    escalations,
    patients,
    scheduled_messages,
    sms_opt_outs,
)
from reminders.domain.model import UNSENT, MessageStatus
from reminders.domain.staff.search import fold, search_words

# Day-of-recovery bands a nurse filters by: (first day, last day or None).
RECOVERY_DAYS = {"week1": (0, 7), "weeks2to4": (8, 28), "later": (29, None)}
SORTS = ("newest", "oldest", "name", "procedure_date", "next_message")
PROBLEM = [MessageStatus.FAILED.value, MessageStatus.UNDELIVERED.value]


@dataclass(frozen=True)
class PatientQuery:
    """What the patient list asks for; every part optional."""

    text: str = ""
    status: str = ""  # active | cancelled
    procedure: str = ""
    recovery: str = ""  # a key of RECOVERY_DAYS
    red_flag: bool = False  # only patients with an open red flag
    opted_out: bool = False  # only patients who stopped texts
    failed: bool = False  # only patients with a message that failed or was not delivered
    sort: str = "newest"
    page: int = 1
    per_page: int = 25


def next_send() -> Any:
    return (
        select(func.min(scheduled_messages.c.send_at))
        .where(
            scheduled_messages.c.enrollment_id == enrollments.c.id,
            scheduled_messages.c.status.in_([s.value for s in UNSENT]),
        )
        .scalar_subquery()
    )


def problems() -> Any:
    return (
        select(func.count())
        .where(
            scheduled_messages.c.enrollment_id == enrollments.c.id,
            scheduled_messages.c.status.in_(PROBLEM),
        )
        .scalar_subquery()
    )


def open_red_flags() -> Any:
    """How many red flags of the enrollment staff have not resolved yet."""
    return (
        select(func.count())
        .where(
            escalations.c.enrollment_id == enrollments.c.id,
            escalations.c.kind == "red_flag",
            escalations.c.status != "resolved",
        )
        .scalar_subquery()
    )


def open_red_flag() -> ColumnElement[bool]:
    return exists().where(
        escalations.c.enrollment_id == enrollments.c.id,
        escalations.c.kind == "red_flag",
        escalations.c.status != "resolved",
    )


def opted_out() -> ColumnElement[bool]:
    return exists().where(sms_opt_outs.c.phone == patients.c.phone, sms_opt_outs.c.active.is_(True))


def filtered(query: Select[Any], q: PatientQuery, *, now: datetime) -> Select[Any]:
    """Add the search words and filters to a select over enrollments joined to patients."""
    for word in search_words(q.text)[:5]:
        query = query.where(_matches(word))
    if q.status:
        query = query.where(enrollments.c.status == q.status)
    if q.procedure:
        query = query.where(enrollments.c.procedure == q.procedure)
    if q.recovery in RECOVERY_DAYS:
        first, last = RECOVERY_DAYS[q.recovery]
        query = query.where(enrollments.c.performed_at <= now - timedelta(days=first))
        if last is not None:
            query = query.where(enrollments.c.performed_at > now - timedelta(days=last + 1))
    if q.red_flag:
        query = query.where(open_red_flag())
    if q.opted_out:
        query = query.where(opted_out())
    if q.failed:
        query = query.where(
            exists().where(
                scheduled_messages.c.enrollment_id == enrollments.c.id,
                scheduled_messages.c.status.in_(PROBLEM),
            )
        )
    return query


def ordered(query: Select[Any], sort: str, next_send_at: Any) -> Select[Any]:
    if sort == "oldest":
        return query.order_by(enrollments.c.id.asc())
    if sort == "name":
        # By last name, as a clinic files its patients; then the first name.
        return query.order_by(
            func.lower(patients.c.last_name).asc(),
            func.lower(patients.c.first_name).asc(),
            enrollments.c.id.desc(),
        )
    if sort == "procedure_date":
        return query.order_by(enrollments.c.performed_at.desc(), enrollments.c.id.desc())
    if sort == "next_message":
        # Soonest first; patients with nothing left to send go last on both databases.
        return query.order_by(next_send_at.is_(None), next_send_at.asc(), enrollments.c.id.desc())
    return query.order_by(enrollments.c.id.desc())


def _matches(word: str) -> ColumnElement[bool]:
    folded = fold(word)
    clauses: list[ColumnElement[bool]] = [
        patients.c.search_text.like(f"%{_escape(folded)}%", escape="\\"),
        func.lower(patients.c.first_name).like(f"%{_escape(word.lower())}%", escape="\\"),
        func.lower(patients.c.last_name).like(f"%{_escape(word.lower())}%", escape="\\"),
        func.lower(func.coalesce(enrollments.c.external_id, "")).like(
            f"%{_escape(word.lower())}%", escape="\\"
        ),
    ]
    caregiver = [func.lower(caregivers.c.name).like(f"%{_escape(word.lower())}%", escape="\\")]
    digits = re.sub(r"\D", "", word)
    if len(digits) >= 3 and len(digits) >= len(word) - 4:  # looks like a phone number
        clauses.append(func.coalesce(patients.c.phone, "").like(f"%{digits}%"))
        caregiver.append(func.coalesce(caregivers.c.phone, "").like(f"%{digits}%"))
    # The caregiver's phone or name finds the patient (a daughter calls about her mother).
    clauses.append(exists().where(caregivers.c.enrollment_id == enrollments.c.id, or_(*caregiver)))
    if word.isdigit() or (word.startswith("#") and word[1:].isdigit()):
        number = int(word.lstrip("#"))
        if number <= 2_147_483_647:
            clauses.append(enrollments.c.id == number)
    return or_(*clauses)


def _escape(text: str) -> str:
    """A search word taken literally: % and _ match themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
