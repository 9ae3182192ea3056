"""Outcomes of the follow-up program for a cohort: who answered, red flags, how fast staff acted.

The cohort is the enrollments whose procedure was performed in a date range (optionally
one procedure). Definitions (docs/replies.md): a message is *sent* once the provider took
it (sent, delivered or undelivered), *failed* if it failed or came back undelivered; a
check-in's recovery day is its local date minus the procedure's local date; time to
acknowledge runs from the red flag to the first staff action (acknowledged, or resolved
without it); p90 is the nearest-rank percentile.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from reminders.adapters.db.staff.outcomes_repository import Cohort
from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.domain.planning.timing import zone_named

SENT = ("sent", "delivered", "undelivered")
FAILED = ("failed", "undelivered")
CSV_DANGER = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class DayRate:
    day: int
    asked: int
    answered: int

    @property
    def rate(self) -> float:
        return self.answered / self.asked if self.asked else 0.0


@dataclass(frozen=True)
class Outcomes:
    cohort: Cohort
    enrolled: int
    sent: int
    delivered: int
    failed: int
    attempted: int  # handed to the provider or failed trying: the base of failure rates
    by_day: list[DayRate]
    asked: int
    answered: int
    median_answer_minutes: float | None
    red_flags: int
    ack_minutes: list[float]  # each acknowledged red flag's time to acknowledge
    median_ack_minutes: float | None
    p90_ack_minutes: float | None
    past_target: int
    target_minutes: int
    opted_out: int
    failed_by_class: dict[str, int] = field(default_factory=dict)

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.asked if self.asked else None

    @property
    def red_flags_per_100(self) -> float | None:
        return 100 * self.red_flags / self.enrolled if self.enrolled else None

    @property
    def opt_out_rate(self) -> float | None:
        return self.opted_out / self.enrolled if self.enrolled else None

    def failure_rate(self, error_class: str) -> float:
        return self.failed_by_class.get(error_class, 0) / self.attempted if self.attempted else 0.0

    def table(self) -> list[tuple[str, str]]:
        """(figure, value) rows: the page's table and the CSV export, the same."""

        def pct(x: float | None) -> str:
            return "" if x is None else f"{100 * x:.1f}%"

        def mins(x: float | None) -> str:
            return "" if x is None else f"{x:.1f}"

        rows = [
            ("Patients enrolled", str(self.enrolled)),
            ("Messages sent", str(self.sent)),
            ("Messages delivered", str(self.delivered)),
            ("Messages failed", str(self.failed)),
            ("Check-ins asked", str(self.asked)),
            ("Check-ins answered", str(self.answered)),
            ("Check-in response rate", pct(self.response_rate)),
            *[
                (f"Response rate, day {d.day}", f"{pct(d.rate)} ({d.answered}/{d.asked})")
                for d in self.by_day
            ],
            ("Median time to answer (min)", mins(self.median_answer_minutes)),
            ("Red flags", str(self.red_flags)),
            (
                "Red flags per 100 patients",
                "" if self.red_flags_per_100 is None else f"{self.red_flags_per_100:.1f}",
            ),
            ("Median time to acknowledge (min)", mins(self.median_ack_minutes)),
            ("p90 time to acknowledge (min)", mins(self.p90_ack_minutes)),
            (f"Red flags past the {self.target_minutes}-min target", str(self.past_target)),
            ("Opt-out rate", pct(self.opt_out_rate)),
            *[
                (f"Undelivered rate, {cls}", pct(self.failure_rate(cls)))
                for cls in sorted(self.failed_by_class)
            ],
        ]
        return rows


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0-100): a value that occurred, not an interpolation."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def compute(*, uow: UnitOfWork, cohort: Cohort, target: timedelta, now: datetime) -> Outcomes:
    """Every figure of the outcomes page for this cohort."""
    with uow:
        enrolled = uow.outcomes.enrolled(cohort)
        statuses = uow.outcomes.messages_by_status(cohort)
        asked_rows = uow.outcomes.checkins(cohort)
        flags = uow.outcomes.red_flags(cohort)
        opted_out = uow.outcomes.opted_out(cohort)
    by_status: Counter[str] = Counter()
    failed_by_class: Counter[str] = Counter()
    for (status, error_class), n in statuses.items():
        by_status[status] += n
        if status in FAILED:
            failed_by_class[error_class or "unknown"] += n
    days: dict[int, list[int]] = {}
    answer_minutes = []
    for c in asked_rows:
        zone = zone_named(c.timezone)
        day = (c.asked_at.astimezone(zone).date() - c.performed_at.astimezone(zone).date()).days
        tally = days.setdefault(day, [0, 0])
        tally[0] += 1
        if c.answered_at is not None:
            tally[1] += 1
            answer_minutes.append((c.answered_at - c.asked_at).total_seconds() / 60)
    ack = [
        (f.first_action_at - f.created_at).total_seconds() / 60 for f in flags if f.first_action_at
    ]
    past = sum(1 for f in flags if ((f.first_action_at or now) - f.created_at) > target)
    return Outcomes(
        cohort=cohort,
        enrolled=enrolled,
        sent=sum(by_status[s] for s in SENT),
        delivered=by_status["delivered"],
        failed=sum(by_status[s] for s in FAILED),
        attempted=sum(by_status[s] for s in ("sent", "delivered", "undelivered", "failed")),
        by_day=[DayRate(d, a, b) for d, (a, b) in sorted(days.items())],
        asked=len(asked_rows),
        answered=len(answer_minutes),
        median_answer_minutes=statistics.median(answer_minutes) if answer_minutes else None,
        red_flags=len(flags),
        ack_minutes=ack,
        median_ack_minutes=statistics.median(ack) if ack else None,
        p90_ack_minutes=percentile(ack, 90),
        past_target=past,
        target_minutes=int(target.total_seconds() // 60),
        opted_out=opted_out,
        failed_by_class=dict(failed_by_class),
    )


def safe_cell(value: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP CSV injection)."""
    return "'" + value if value.startswith(CSV_DANGER) else value


def csv_rows(outcomes: Outcomes) -> list[list[str]]:
    c = outcomes.cohort
    head = [
        ["Figure", "Value"],
        ["From", c.start.date().isoformat()],
        ["To (exclusive)", c.end.date().isoformat()],
        ["Procedure", c.procedure or "all"],
    ]
    return [[safe_cell(x) for x in row] for row in head + [list(r) for r in outcomes.table()]]


def procedures(*, uow: UnitOfWork) -> list[str]:
    with uow:
        return uow.outcomes.procedures()
