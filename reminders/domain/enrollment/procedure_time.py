"""When a procedure happened: a typed wall time read in the patient's zone, and checked.

A procedure time is refused when that wall time never happened (the clocks skipped it),
when it is in the future, or when it is older than the care plan is long.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from reminders.domain.errors import InvalidProcedureTime
from reminders.domain.planning.careplan import CarePlan


def local_moment(when: datetime, zone: ZoneInfo) -> datetime:
    """Return `when` as an aware moment; a naive time is the wall clock in `zone`.

    A wall time the zone skips when the clocks go forward (2026-03-08 02:30 in
    America/Los_Angeles) never happened, so it is refused with InvalidProcedureTime
    naming the gap. A wall time that happens twice when the clocks go back
    (2026-11-01 01:30 in America/Los_Angeles) is read as the first of the two, still on
    daylight time (fold=0, the same rule care-plan times follow in timing.local_to_utc);
    give the time with its offset (01:30-08:00) to mean the second one.
    """
    if when.tzinfo is not None:
        return when
    try:
        if not _exists(when, zone):
            start, end = _gap_around(when, zone)
            raise InvalidProcedureTime(
                f"{when:%Y-%m-%d %H:%M} did not happen in {zone.key}: the clocks went from"
                f" {start:%H:%M} straight to {end:%H:%M} that night (daylight saving time);"
                " check the time, or give it with its UTC offset"
            )
        return when.replace(tzinfo=zone, fold=0)
    except OverflowError:
        raise InvalidProcedureTime(f"{when:%Y-%m-%d %H:%M} is not a plausible date") from None


def _exists(wall: datetime, zone: ZoneInfo) -> bool:
    there_and_back = wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)
    return there_and_back.replace(tzinfo=None) == wall


def _gap_around(wall: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The first skipped minute and the first minute after the gap, as wall times."""
    minute = timedelta(minutes=1)
    start = wall.replace(second=0, microsecond=0)
    for _ in range(2 * 24 * 60):  # no zone has ever skipped more than a day
        if _exists(start - minute, zone):
            break
        start -= minute
    end = wall.replace(second=0, microsecond=0)
    for _ in range(2 * 24 * 60):
        if _exists(end, zone):
            break
        end += minute
    return start, end


def not_in_future(when: datetime, *, now: datetime, skew: timedelta) -> datetime:
    """Refuse an aware procedure time later than now (give or take the clocks' skew).

    It needs neither the zone nor the plan, so it is said even when those are wrong.
    """
    if when > now + skew:
        raise InvalidProcedureTime(
            "the procedure time is in the future; enroll once the procedure is done"
        )
    return when


def procedure_time(
    performed_at: datetime, *, zone: ZoneInfo, plan: CarePlan, now: datetime, skew: timedelta
) -> datetime:
    """Return the procedure time in UTC (naive means the patient's local time) if plausible."""
    try:
        when = local_moment(performed_at, zone).astimezone(UTC)
    except OverflowError:
        raise InvalidProcedureTime(f"{performed_at.isoformat()} is not a plausible date") from None
    not_in_future(when, now=now, skew=skew)
    if when < now - plan.duration:
        raise InvalidProcedureTime(
            f"the procedure was more than {plan.duration_days} days ago,"
            f" past the end of the {plan.procedure} plan"
        )
    return when
