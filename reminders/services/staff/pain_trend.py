"""The patient's answers as a trend: pain by recovery day, red flags, and missed check-ins.

What the patient page's chart (templates/staff/_pain_chart.html) draws: points with
their position already scaled to the SVG, lines broken where a check-in went unanswered
(a gap, never a line drawn through silence), and a table of the same answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.domain.inbound.replies import ANSWER_WINDOW
from reminders.domain.model import Enrollment
from reminders.domain.planning.timing import zone_named

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 320, 160, 28, 20, 8  # the SVG's frame, in its units


@dataclass(frozen=True)
class Point:
    day: int  # recovery day: local date of the question minus the procedure's
    asked: str  # local time, for the table
    kind: str  # pain | warning
    pain: int | None
    answer: str  # what the table says: "7/10", "YES", "no answer", "waiting"
    red_flag: bool
    missed: bool
    x: float
    y: float | None


@dataclass(frozen=True)
class PainTrend:
    points: list[Point]
    segments: list[list[Point]]  # runs of answered pain check-ins: one polyline each
    last_day: int
    ticks: list[tuple[int, float]] = field(default_factory=list)  # (day, x) along the axis

    @property
    def has_pain(self) -> bool:
        return any(p.pain is not None for p in self.points)


def _x(day: int, last_day: int) -> float:
    return round(LEFT + (WIDTH - LEFT - 14) * day / max(last_day, 1), 1)


def _y(pain: int) -> float:
    return round(TOP + (HEIGHT - TOP - BOTTOM) * (10 - pain) / 10, 1)


def pain_trend(
    *, uow: UnitOfWork, enrollment_id: int, performed_at: datetime, timezone: str, now: datetime
) -> PainTrend:
    """The chart of one enrollment (empty when it asked nothing yet)."""
    with uow:
        asked = uow.outcomes.checkins_of(enrollment_id)
    zone = zone_named(timezone)
    start = performed_at.astimezone(zone).date()
    days = [(c.asked_at.astimezone(zone).date() - start).days for c in asked]
    last_day = max([*days, 1])
    points, segments, run = [], [], []
    for c, day in zip(asked, days, strict=True):
        waiting = c.status == "open" and now - c.asked_at < ANSWER_WINDOW
        missed = c.answer is None and not waiting
        if c.answer is None:
            shown = "waiting" if waiting else "no answer"
        else:
            shown = f"{c.pain}/10" if c.kind == "pain" else c.answer.upper()
        p = Point(
            day=day,
            asked=c.asked_at.astimezone(zone).strftime("%b %-d %-I:%M %p"),
            kind=c.kind,
            pain=c.pain,
            answer=shown,
            red_flag=c.red_flag,
            missed=missed,
            x=_x(day, last_day),
            y=_y(c.pain) if c.pain is not None else None,
        )
        points.append(p)
        if c.kind != "pain":
            continue  # a warning question is marked, not part of the pain line
        if p.pain is not None:
            run.append(p)
        elif missed and run:
            segments.append(run)
            run = []
    if run:
        segments.append(run)
    step = max(1, last_day // 6)
    ticks = [(d, _x(d, last_day)) for d in range(0, last_day + 1, step)]
    return PainTrend(points, segments, last_day, ticks)


def for_enrollment(e: Enrollment, *, uow: UnitOfWork, now: datetime) -> PainTrend:
    """The patient page's context: this enrollment's chart."""
    assert e.id is not None
    return pain_trend(
        uow=uow,
        enrollment_id=e.id,
        performed_at=e.procedure.performed_at,
        timezone=e.patient.timezone,
        now=now,
    )
