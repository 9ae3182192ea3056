"""Read-only queries behind the outcomes page: the facts of one cohort of enrollments.

A cohort is the enrollments whose procedure was performed in [start, end), optionally of
one procedure. Each method returns plain rows; services/staff/outcomes.py computes the figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, and_, func, select

from reminders.adapters.db.orm import (
    checkin_answers,
    checkins,
    enrollments,
    escalations,
    patients,
    scheduled_messages,
    sms_opt_outs,
)

E, M = enrollments, scheduled_messages


@dataclass(frozen=True)
class Cohort:
    start: datetime
    end: datetime
    procedure: str | None = None  # None: every procedure

    def where(self) -> ColumnElement[bool]:
        clause = and_(E.c.performed_at >= self.start, E.c.performed_at < self.end)
        return and_(clause, E.c.procedure == self.procedure) if self.procedure else clause


@dataclass(frozen=True)
class AskedCheckin:
    performed_at: datetime
    timezone: str
    asked_at: datetime
    answered_at: datetime | None


@dataclass(frozen=True)
class RedFlag:
    created_at: datetime
    first_action_at: datetime | None  # acknowledged, or resolved without acknowledging


@dataclass(frozen=True)
class AnsweredCheckin:
    """One check-in of a patient with its answer, if any (the pain chart's points)."""

    id: int
    kind: str  # pain | warning
    asked_at: datetime
    status: str  # open | answered | no_answer | closed
    pain: int | None
    answer: str | None
    red_flag: bool


class OutcomesRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def procedures(self) -> list[str]:
        return list(self.conn.scalars(select(E.c.procedure).distinct().order_by(E.c.procedure)))

    def enrolled(self, cohort: Cohort) -> int:
        return int(self.conn.scalar(select(func.count()).select_from(E).where(cohort.where())) or 0)

    def messages_by_status(self, cohort: Cohort) -> dict[tuple[str, str | None], int]:
        """(status, error class) -> count, for care messages and resends of the cohort."""
        rows = self.conn.execute(
            select(M.c.status, M.c.error_class, func.count())
            .join(E, E.c.id == M.c.enrollment_id)
            .where(cohort.where())
            .group_by(M.c.status, M.c.error_class)
        ).all()
        return {(status, error_class): int(n) for status, error_class, n in rows}

    def checkins(self, cohort: Cohort) -> list[AskedCheckin]:
        rows = self.conn.execute(
            select(
                E.c.performed_at,
                patients.c.timezone,
                checkins.c.asked_at,
                checkin_answers.c.answered_at,
            )
            .join(E, E.c.id == checkins.c.enrollment_id)
            .join(patients, patients.c.id == E.c.patient_id)
            .outerjoin(checkin_answers, checkin_answers.c.checkin_id == checkins.c.id)
            .where(cohort.where())
            .order_by(checkins.c.asked_at)
        ).all()
        return [AskedCheckin(r[0], r[1], r[2], r[3]) for r in rows]

    def red_flags(self, cohort: Cohort) -> list[RedFlag]:
        X = escalations
        rows = self.conn.execute(
            select(X.c.created_at, X.c.acknowledged_at, X.c.resolved_at)
            .join(E, E.c.id == X.c.enrollment_id)
            .where(cohort.where(), X.c.kind == "red_flag")
            .order_by(X.c.created_at)
        ).all()
        return [RedFlag(r[0], r[1] or r[2]) for r in rows]

    def opted_out(self, cohort: Cohort) -> int:
        """Patients of the cohort whose phone opted out of texts (even if back in since)."""
        return int(
            self.conn.scalar(
                select(func.count(func.distinct(E.c.patient_id)))
                .select_from(E)
                .join(patients, patients.c.id == E.c.patient_id)
                .join(sms_opt_outs, sms_opt_outs.c.phone == patients.c.phone)
                .where(cohort.where())
            )
            or 0
        )

    def checkins_of(self, enrollment_id: int) -> list[AnsweredCheckin]:
        """Every check-in of one enrollment with its answer, oldest first."""
        A = checkin_answers
        rows = self.conn.execute(
            select(
                checkins.c.id,
                checkins.c.kind,
                checkins.c.asked_at,
                checkins.c.status,
                A.c.pain,
                A.c.answer,
                A.c.red_flag,
            )
            .outerjoin(A, A.c.checkin_id == checkins.c.id)
            .where(checkins.c.enrollment_id == enrollment_id)
            .order_by(checkins.c.asked_at, checkins.c.id)
        ).all()
        return [AnsweredCheckin(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6])) for r in rows]
