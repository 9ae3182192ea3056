"""Step times, quiet hours and local-time arithmetic across clock changes."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from reminders.domain.errors import UnknownTimeZone
from reminders.domain.planning.timing import (
    QuietHours,
    local_to_utc,
    parse_duration,
    parse_step_time,
    zone_named,
)

LA = ZoneInfo("America/Los_Angeles")


@pytest.mark.parametrize(
    ("text", "after"),
    [
        ("+2h", timedelta(hours=2)),
        ("+90m", timedelta(minutes=90)),
        ("+1d", timedelta(days=1)),
        (" +3 h ", timedelta(hours=3)),
    ],
)
def test_relative_step_times(text, after):
    assert parse_step_time(text).after == after


def test_day_at_step_time():
    t = parse_step_time("Day 3 at 9:05")
    assert (t.day, t.at) == (3, time(9, 5))


@pytest.mark.parametrize("text", ["tomorrow", "day 1 at 25:00", "day -1 at 09:00", "+2", "2h", ""])
def test_bad_step_times_are_refused(text):
    with pytest.raises(ValueError):
        parse_step_time(text)


def test_durations():
    assert parse_duration("12h") == timedelta(hours=12)
    with pytest.raises(ValueError):
        parse_duration("soon")


def test_day_at_is_wall_clock_time_across_spring_forward():
    performed = datetime(2026, 3, 7, 23, 30, tzinfo=LA)  # PST, the night before the change
    day1 = parse_step_time("day 1 at 09:00").resolve(performed, LA)
    assert day1.astimezone(LA).time() == time(9, 0)
    assert day1.astimezone(LA).utcoffset() == timedelta(hours=-7)  # PDT on 2026-03-08
    assert day1 == datetime(2026, 3, 8, 16, 0, tzinfo=UTC)


def test_nonexistent_local_time_lands_after_the_gap():
    moment = local_to_utc(date(2026, 3, 8), time(2, 30), LA)
    assert moment.astimezone(LA).time() == time(3, 30)


def test_ambiguous_local_time_takes_the_first_occurrence():
    moment = local_to_utc(date(2026, 11, 1), time(1, 30), LA)
    assert moment.astimezone(LA).utcoffset() == timedelta(hours=-7)  # still PDT


def test_quiet_hours_move_night_to_next_morning_and_dawn_to_same_morning():
    q = QuietHours()
    night = datetime(2026, 3, 7, 23, 30, tzinfo=LA)
    assert q.next_allowed(night, LA).astimezone(LA) == datetime(2026, 3, 8, 8, 0, tzinfo=LA)
    dawn = datetime(2026, 3, 8, 6, 0, tzinfo=LA)
    assert q.next_allowed(dawn, LA).astimezone(LA) == datetime(2026, 3, 8, 8, 0, tzinfo=LA)
    noon = datetime(2026, 3, 8, 12, 0, tzinfo=LA)
    assert q.next_allowed(noon, LA) == noon
    assert q.next_allowed(datetime(2026, 3, 8, 21, 0, tzinfo=LA), LA).astimezone(LA).day == 9


def test_quiet_hours_must_be_a_real_window():
    with pytest.raises(ValueError):
        QuietHours(start=time(21), end=time(8))


def test_unknown_zone_has_a_clear_message_and_hint():
    with pytest.raises(UnknownTimeZone, match="Los_Angeles"):
        zone_named("Los_Angeles")
    with pytest.raises(UnknownTimeZone):
        zone_named("../../etc/passwd")
    assert zone_named("Europe/Madrid").key == "Europe/Madrid"
