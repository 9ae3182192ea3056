"""Care-plan times ("+2h", "day 1 at 09:00"), quiet hours and zone arithmetic, DST-correct."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from reminders.domain.errors import UnknownTimeZone

_RELATIVE = re.compile(r"^\+(\d+)\s*([mhd])$")
_DAY_AT = re.compile(r"^day\s+(\d+)\s+at\s+(\d{1,2}):(\d{2})$")
_DURATION = re.compile(r"^(\d+)\s*([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


@dataclass(frozen=True)
class StepTime:
    """When a step happens: a fixed delay after the procedure, or a local day and time."""

    after: timedelta | None = None
    day: int | None = None
    at: time | None = None

    def resolve(self, performed_at: datetime, zone: ZoneInfo) -> datetime:
        """Return the planned moment in UTC."""
        if self.after is not None:
            return (performed_at + self.after).astimezone(UTC)
        assert self.day is not None and self.at is not None
        local_day = performed_at.astimezone(zone).date() + timedelta(days=self.day)
        return local_to_utc(local_day, self.at, zone)


def parse_step_time(text: str) -> StepTime:
    """Parse "+90m", "+2h", "+1d" or "day 3 at 09:00"; raise ValueError otherwise."""
    cleaned = " ".join(text.strip().lower().split())
    if m := _RELATIVE.match(cleaned):
        return StepTime(after=timedelta(**{_UNITS[m[2]]: int(m[1])}))
    if m := _DAY_AT.match(cleaned):
        hour, minute = int(m[2]), int(m[3])
        if hour > 23 or minute > 59:
            raise ValueError(f"{text!r} is not a time of day")
        return StepTime(day=int(m[1]), at=time(hour, minute))
    raise ValueError(f'{text!r} is not a step time; use "+2h", "+30m", "+1d" or "day 1 at 09:00"')


def parse_duration(text: str) -> timedelta:
    """Parse "12h", "30m" or "2d"."""
    m = _DURATION.match(text.strip().lower())
    if not m:
        raise ValueError(f'{text!r} is not a duration; use "12h", "30m" or "2d"')
    return timedelta(**{_UNITS[m[2]]: int(m[1])})


def zone_named(name: str) -> ZoneInfo:
    """Return the IANA zone, or raise UnknownTimeZone with a hint."""
    if not name or name != name.strip() or name.startswith(("/", ".")) or ".." in name:
        raise UnknownTimeZone(f"{name!r} is not a time zone; use a name like America/Los_Angeles")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, IsADirectoryError):
        close = sorted(z for z in available_timezones() if z.lower().endswith(name.lower()))
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise UnknownTimeZone(
            f"{name!r} is not a time zone; use a name like America/Los_Angeles{hint}"
        ) from None


def local_to_utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    """Return the UTC instant of a local wall-clock time.

    A time that does not exist (skipped at spring-forward) lands the same distance
    past the gap (02:30 becomes 03:30); an ambiguous one (fall-back) takes its first
    occurrence. That is what fold=0 means to zoneinfo.
    """
    return datetime.combine(day, at).replace(tzinfo=zone, fold=0).astimezone(UTC)


@dataclass(frozen=True)
class QuietHours:
    """Local hours when nothing is sent: before `start` and from `end` on."""

    start: time = time(8, 0)  # first minute messages may go out
    end: time = time(21, 0)  # first minute of quiet

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError("quiet hours: the sending window must start before it ends")

    def next_allowed(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """Return the first instant at or after `moment` outside quiet hours, in UTC."""
        local = moment.astimezone(zone)
        wall = local.time().replace(tzinfo=None)
        if wall < self.start:
            return local_to_utc(local.date(), self.start, zone)
        if wall >= self.end:
            return local_to_utc(local.date() + timedelta(days=1), self.start, zone)
        return moment.astimezone(UTC)

    def allows(self, moment: datetime, zone: ZoneInfo) -> bool:
        wall = moment.astimezone(zone).time().replace(tzinfo=None)
        return self.start <= wall < self.end
