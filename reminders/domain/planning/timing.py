"""Care-plan times ("+2h", "day 1 at 09:00"), quiet hours and zone arithmetic, DST-correct."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from difflib import get_close_matches
from functools import cache
from importlib.resources import files
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


# What people call the US zones, and the zone each means (never Canada/Eastern for "Eastern").
SPOKEN_ZONES = {
    "eastern": "America/New_York",
    "central": "America/Chicago",
    "mountain": "America/Denver",
    "pacific": "America/Los_Angeles",
    "alaska": "America/Anchorage",
    "hawaii": "Pacific/Honolulu",
    "arizona": "America/Phoenix",
    "atlantic": "America/Puerto_Rico",
}
# Zones that keep one offset all year (no summer time); a patient lives in a place instead.
FIXED_OFFSET = {
    "EST": "America/New_York",
    "MST": "America/Denver (or America/Phoenix, which keeps standard time)",
    "HST": "Pacific/Honolulu",
}
_FIXED_NAMES = frozenset({"GMT", "GMT0", "GMT+0", "GMT-0", "UTC", "UCT", "Universal", "Zulu"})


@cache
def place_zones() -> dict[str, str]:
    """Every zone of a place (the IANA zone.tab), with its city and country: "New York, US"."""
    base = files("tzdata") / "zoneinfo"
    countries = dict(
        line.split("\t", 1)
        for line in (base / "iso3166.tab").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    )
    found: dict[str, str] = {}
    for line in (base / "zone.tab").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            code, _, key, *_ = line.split("\t")
            found[key] = f"{city(key)}, {countries.get(code, code).strip()}"
    return dict(sorted(found.items(), key=lambda kv: kv[1]))


def city(key: str) -> str:
    """The place a zone is named after: America/Argentina/Buenos_Aires -> Buenos Aires."""
    return key.rsplit("/", 1)[-1].replace("_", " ")


def suggest_zone(name: str) -> str | None:
    """The zone a typed name most likely means: a spoken name, a city, or the closest spelling."""
    typed = " ".join(name.replace("_", " ").lower().split())
    typed = typed.removesuffix(" time").removesuffix(" standard").removesuffix(" daylight")
    if typed in SPOKEN_ZONES:
        return SPOKEN_ZONES[typed]
    places = place_zones()
    by_name = {k.replace("_", " ").lower(): k for k in places}
    by_city = {city(k).lower(): k for k in places}
    if typed in by_city:
        return by_city[typed]
    for words, table in ((typed, by_name), (typed.rsplit("/", 1)[-1], by_city)):
        close = get_close_matches(words, list(table), n=1, cutoff=0.75)
        if close:
            return table[close[0]]
    ends = sorted(k for k in places if k.lower().endswith(name.strip().lower()))
    return ends[0] if ends else None


def zone_named(name: str) -> ZoneInfo:
    """Return the IANA zone, or raise UnknownTimeZone with a "did you mean" when one is close.

    A name written with spaces as the pages show it ("America/New York") is the zone.
    """
    if not name or name != name.strip() or name.startswith(("/", ".")) or ".." in name:
        raise UnknownTimeZone(f"{name!r} is not a time zone; use a name like America/Los_Angeles")
    try:
        return ZoneInfo(name.replace(" ", "_") if "/" in name else name)
    except (ZoneInfoNotFoundError, ValueError, IsADirectoryError):
        close = suggest_zone(name)
        hint = f" (did you mean {close}?)" if close else ""
        raise UnknownTimeZone(
            f"{name!r} is not a time zone; use a name like America/Los_Angeles{hint}"
        ) from None


def patient_zone(name: str) -> ZoneInfo:
    """The zone a patient lives in, as typed on a form or sent by an EHR.

    Refused (with the place to use instead) when it keeps one offset all year, as EST or
    Etc/GMT+5 do: the quiet hours would be an hour off all summer.
    """
    zone = zone_named(name)
    if zone.key in FIXED_OFFSET or zone.key in _FIXED_NAMES or zone.key.startswith("Etc/"):
        instead = FIXED_OFFSET.get(zone.key, "the zone of the patient's city")
        raise UnknownTimeZone(
            f"{name!r} keeps one offset all year, without summer time, so messages would be"
            f" an hour off half the year; use {instead}"
        )
    return zone


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
