"""The patient's answers as a trend: pain by recovery day, red flags, and missed check-ins.

What the patient page's chart (templates/staff/_pain_chart.html) draws: points with
their position already scaled to the SVG, lines broken where a check-in went unanswered
(a gap, never a line drawn through silence), open red flags raised by free text, and a
table of the same answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.domain.inbound.replies import ANSWER_WINDOW
from reminders.domain.model import Enrollment
from reminders.domain.planning.timing import zone_named

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 320, 160, 28, 20, 8  # the SVG's frame, in its units


# What each check-in kind asks, as the table says it (the plans use all four).
QUESTIONS = {
    "pain": "pain (0-10)",
    "pain_warning": "pain (0-10) and warning signs",
    "warning": "warning signs",
    "bone_med": "bone medicine",
}
PAIN_KINDS = frozenset({"pain", "pain_warning"})  # answers that carry a pain score


@dataclass(frozen=True)
class Point:
    day: int  # recovery day: local date of the question minus the procedure's
    asked: str  # local time, for the table
    kind: str  # pain | pain_warning | warning | bone_med
    pain: int | None
    answer: str  # what the table says: "7/10", "4/10, no", "YES", "no answer", "waiting"
    red_flag: bool
    missed: bool
    x: float
    y: float | None

    @property
    def question(self) -> str:
        return QUESTIONS.get(self.kind, self.kind.replace("_", " "))


@dataclass(frozen=True)
class FlagMark:
    """An open red flag raised by a text that answered no question, where the chart shows it."""

    day: int
    at: str  # local time, for the table
    reason: str
    x: float


@dataclass(frozen=True)
class PainTrend:
    points: list[Point]
    segments: list[list[Point]]  # runs of answered pain check-ins: one polyline each
    last_day: int
    ticks: list[tuple[int, float]] = field(default_factory=list)  # (day, x) along the axis
    flags: list[FlagMark] = field(default_factory=list)
    zone: str = ""  # the patient's, in which the table's times are written

    @property
    def has_pain(self) -> bool:
        return any(p.pain is not None for p in self.points)

    @property
    def shown(self) -> bool:
        return bool(self.points or self.flags)


def _x(day: int, last_day: int) -> float:
    return round(LEFT + (WIDTH - LEFT - 14) * day / max(last_day, 1), 1)


def _y(pain: int) -> float:
    return round(TOP + (HEIGHT - TOP - BOTTOM) * (10 - pain) / 10, 1)


def _shown(kind: str, answer: str, pain: int | None) -> str:
    """An answer as the table writes it: "7/10", "4/10, NO" (pain and warning signs), "YES"."""
    if pain is None:
        return answer.upper()
    rest = answer.split()[1:] if kind == "pain_warning" else []
    return f"{pain}/10" + (f", {' '.join(rest).upper()}" if rest else "")


def pain_trend(
    *,
    uow: UnitOfWork,
    enrollment_id: int,
    performed_at: datetime,
    timezone: str,
    now: datetime,
) -> PainTrend:
    """The chart of one enrollment (empty when it asked nothing and nothing is flagged)."""
    with uow:
        asked = uow.outcomes.checkins_of(enrollment_id)
        free = [f for f in uow.care.open_red_flags(enrollment_id) if not f.answered]
    zone = zone_named(timezone)
    start = performed_at.astimezone(zone).date()
    days = [(c.asked_at.astimezone(zone).date() - start).days for c in asked]
    flag_days = [(f.created_at.astimezone(zone).date() - start).days for f in free]
    last_day = max([*days, *flag_days, 1])
    points, segments, run = [], [], []
    for c, day in zip(asked, days, strict=True):
        waiting = c.status == "open" and now - c.asked_at < ANSWER_WINDOW
        missed = c.answer is None and not waiting
        if c.answer is None:
            shown = "waiting" if waiting else "no answer"
        else:
            shown = _shown(c.kind, c.answer, c.pain)
        p = Point(
            day=day,
            asked=c.asked_at.astimezone(zone).strftime("%b %-d %-I:%M %p %Z"),
            kind=c.kind,
            pain=c.pain,
            answer=shown,
            red_flag=c.red_flag,
            missed=missed,
            x=_x(day, last_day),
            y=_y(c.pain) if c.pain is not None else None,
        )
        points.append(p)
        if c.kind not in PAIN_KINDS:
            continue  # a question without a score is marked, not part of the pain line
        if p.pain is not None:
            run.append(p)
        elif missed and run:
            segments.append(run)
            run = []
    if run:
        segments.append(run)
    flags = [
        FlagMark(
            day=day,
            at=f.created_at.astimezone(zone).strftime("%b %-d %-I:%M %p %Z"),
            reason=f.reason,
            x=_x(day, last_day),
        )
        for f, day in zip(free, flag_days, strict=True)
    ]
    step = max(1, last_day // 6)
    ticks = [(d, _x(d, last_day)) for d in range(0, last_day + 1, step)]
    return PainTrend(points, segments, last_day, ticks, flags, zone.key)


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
