"""When a procedure happened: naive times in the patient's zone, DST gaps and overlaps, limits."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from reminders.domain.enrollment.procedure_time import local_moment, procedure_time
from reminders.domain.errors import InvalidProcedureTime
from reminders.domain.planning.careplan import parse_care_plan

LA = ZoneInfo("America/Los_Angeles")
PLAN = parse_care_plan(
    {
        "procedure": "kyphoplasty",
        "languages": ["en"],
        "title": {"en": "Kyphoplasty"},
        "duration_days": 42,
        "steps": [{"key": "rest", "category": "rest", "at": "+2h"}],
    },
    source="test",
)
NOW = datetime(2026, 5, 4, 17, 0, tzinfo=UTC)  # 10:00 in Los Angeles
SKEW = timedelta(minutes=10)


def when(performed_at, *, zone=LA, now=NOW):
    return procedure_time(performed_at, zone=zone, plan=PLAN, now=now, skew=SKEW)


def test_a_naive_time_is_the_wall_clock_in_the_patients_zone():
    assert when(datetime(2026, 5, 4, 7, 0)) == datetime(2026, 5, 4, 14, 0, tzinfo=UTC)
    tokyo = ZoneInfo("Asia/Tokyo")
    assert when(datetime(2026, 5, 4, 7, 0), zone=tokyo) == datetime(2026, 5, 3, 22, 0, tzinfo=UTC)


def test_a_time_with_an_offset_keeps_it_whatever_the_zone():
    given = datetime(2026, 5, 4, 7, 0, tzinfo=ZoneInfo("America/New_York"))
    assert when(given) == datetime(2026, 5, 4, 11, 0, tzinfo=UTC)
    assert when(given).tzinfo is UTC


def test_a_time_the_clocks_skipped_is_refused_naming_the_gap():
    with pytest.raises(InvalidProcedureTime) as info:
        local_moment(datetime(2026, 3, 8, 2, 30), LA)
    assert info.value.message == (
        "2026-03-08 02:30 did not happen in America/Los_Angeles: the clocks went from"
        " 02:00 straight to 03:00 that night (daylight saving time); check the time,"
        " or give it with its UTC offset"
    )
    assert info.value.field == "performed_at"


def test_the_gap_is_named_in_other_zones_too():
    # Europe/London skips 01:00-02:00 on 2026-03-29.
    with pytest.raises(InvalidProcedureTime, match="from 01:00 straight to 02:00"):
        local_moment(datetime(2026, 3, 29, 1, 15), ZoneInfo("Europe/London"))


def test_the_minutes_around_the_gap_are_real_times():
    assert local_moment(datetime(2026, 3, 8, 1, 59), LA).astimezone(UTC) == datetime(
        2026, 3, 8, 9, 59, tzinfo=UTC
    )
    assert local_moment(datetime(2026, 3, 8, 3, 0), LA).astimezone(UTC) == datetime(
        2026, 3, 8, 10, 0, tzinfo=UTC
    )


def test_a_time_that_happened_twice_is_the_first_one_on_daylight_time():
    first = local_moment(datetime(2026, 11, 1, 1, 30), LA)
    assert first.astimezone(UTC) == datetime(2026, 11, 1, 8, 30, tzinfo=UTC)  # 01:30 PDT
    # With its offset, the second 01:30 (PST) is the one meant.
    second = datetime(2026, 11, 1, 1, 30, tzinfo=ZoneInfo("Etc/GMT+8"))
    assert local_moment(second, LA).astimezone(UTC) == datetime(2026, 11, 1, 9, 30, tzinfo=UTC)


def test_a_time_in_the_future_is_refused_beyond_the_clock_skew():
    assert when(datetime(2026, 5, 4, 10, 9)) == NOW + timedelta(minutes=9)  # clocks differ
    with pytest.raises(InvalidProcedureTime, match="in the future; enroll once the procedure"):
        when(datetime(2026, 5, 4, 10, 11))


def test_a_procedure_older_than_the_plan_is_refused_naming_the_plan():
    assert when(NOW - timedelta(days=42)) == NOW - timedelta(days=42)
    with pytest.raises(InvalidProcedureTime) as info:
        when(NOW - timedelta(days=42, minutes=1))
    assert info.value.message == (
        "the procedure was more than 42 days ago, past the end of the kyphoplasty plan"
    )


def test_a_date_at_the_edge_of_the_calendar_is_refused_not_crashed():
    with pytest.raises(InvalidProcedureTime, match="is not a plausible date"):
        when(datetime(9999, 12, 31, 23, 0))  # in UTC it would be in the year 10000
    with pytest.raises(InvalidProcedureTime, match="is not a plausible date"):
        when(datetime(1, 1, 1, 0, 0), zone=ZoneInfo("Asia/Tokyo"))
