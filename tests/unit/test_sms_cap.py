"""The one SMS cap: a local calendar day and any 168 hours, checked by brute force."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from reminders.domain.model import (
    Channel,
    Consent,
    ConsentMethod,
    MessageStatus,
    Patient,
    ProcedureRecord,
)
from reminders.domain.planning.careplan import parse_care_plan
from reminders.domain.planning.schedule import expand_care_plan
from reminders.domain.planning.sms_cap import SmsCap
from reminders.domain.planning.timing import QuietHours

LA = ZoneInfo("America/Los_Angeles")
CAP = SmsCap(per_day=1, per_week=3)
H = timedelta(hours=1)


def la(*args: int) -> datetime:
    return datetime(*args, tzinfo=LA)


def over_cap(texts: list[datetime], cap: SmsCap, zone: ZoneInfo) -> bool:
    """Independent check: some local day or some 168 hours holds too many texts."""
    days = [t.astimezone(zone).date() for t in texts]
    if any(days.count(d) > cap.per_day for d in days):
        return True
    return any(sum(s <= t < s + timedelta(hours=168) for t in texts) > cap.per_week for s in texts)


def test_the_issue_example_four_texts_in_165_hours_do_not_fit():
    sent = [la(2026, 6, 11, 13), la(2026, 6, 13, 10), la(2026, 6, 17, 10)]
    assert not CAP.fits(sent, la(2026, 6, 18, 10), LA)  # 165 h after the first
    assert CAP.fits(sent, la(2026, 6, 18, 13), LA)  # 168 h after: the first has left
    assert CAP.earliest_fit(sent, la(2026, 6, 18, 10), LA, latest=la(2026, 6, 19)) == la(
        2026, 6, 18, 13
    )


def test_one_a_day_counts_the_local_calendar_day():
    assert not CAP.fits([la(2026, 5, 4, 8)], la(2026, 5, 4, 20, 59), LA)
    assert CAP.fits([la(2026, 5, 4, 8)], la(2026, 5, 5, 0, 0), LA)


def test_a_planned_text_later_in_the_week_counts_too():
    texts = [la(2026, 5, 4, 9), la(2026, 5, 6, 9), la(2026, 5, 8, 9)]
    assert not CAP.fits(texts, la(2026, 5, 5, 9), LA)  # would make 4 within 168 h
    assert CAP.fits(texts, la(2026, 5, 12, 9), LA)


def test_earliest_fit_keeps_to_quiet_hours_and_the_latest_moment():
    quiet = QuietHours()
    texts = [la(2026, 5, 4, 9)]
    found = CAP.earliest_fit(
        texts,
        la(2026, 5, 4, 12),
        LA,
        latest=la(2026, 5, 6),
        allowed=lambda t: quiet.next_allowed(t, LA),
    )
    assert found == la(2026, 5, 5, 8)  # the next local day, at the start of the window
    assert CAP.earliest_fit(texts, la(2026, 5, 4, 12), LA, latest=la(2026, 5, 4, 23)) is None


moments = st.integers(0, 24 * 20).map(lambda h: la(2026, 3, 1) + h * H)


@settings(max_examples=300, deadline=None)
@given(
    texts=st.lists(moments, max_size=8),
    at=moments,
    per_day=st.integers(1, 3),
    extra=st.integers(0, 4),
)
def test_fits_agrees_with_brute_force(texts, at, per_day, extra):
    cap = SmsCap(per_day, per_day + extra)
    if over_cap(texts, cap, LA):
        return  # fits only promises not to make a good history bad
    assert cap.fits(texts, at, LA) == (not over_cap([*texts, at], cap, LA))


@settings(max_examples=200, deadline=None)
@given(texts=st.lists(moments, max_size=6), at=moments)
def test_earliest_fit_is_the_first_hour_that_fits(texts, at):
    if over_cap(texts, CAP, LA):
        return
    latest = at + 10 * 24 * H
    found = CAP.earliest_fit(texts, at, LA, latest=latest)
    hour = at
    while hour <= latest and not CAP.fits(texts, hour, LA):
        hour += H
    if found is None:
        assert hour > latest
    else:
        assert CAP.fits(texts, found, LA) and at <= found <= hour


def test_a_plan_never_puts_four_texts_in_168_hours():
    # The defect: a plan performed 2026-06-10 10:00 in Los Angeles sent texts on 06-11
    # 13:00, 06-13, 06-17 and 06-18 10:00 (within 165 hours).
    steps = [
        {"key": "a", "at": "day 1 at 13:00", "stale_after": "48h"},
        {"key": "b", "at": "day 3 at 10:00", "stale_after": "48h"},
        {"key": "c", "at": "day 7 at 10:00", "stale_after": "48h"},
        {"key": "d", "at": "day 8 at 10:00", "stale_after": "48h"},
    ]
    plan = parse_care_plan(
        {
            "procedure": "test",
            "languages": ["en"],
            "title": {"en": "t"},
            "steps": [{**s, "category": "rest", "channels": ["sms"]} for s in steps],
        },
        source="test",
    )
    performed = la(2026, 6, 10, 10)
    consent = [Consent(Channel.SMS, True, ConsentMethod.VERBAL, "n", performed)]
    msgs = expand_care_plan(
        plan,
        ProcedureRecord("test", performed.astimezone(UTC)),
        Patient("A", "B", "+18055550100", None, "en", "America/Los_Angeles"),
        consent,
        now=performed,
    )
    times = [m.send_at for m in msgs if m.status is MessageStatus.SCHEDULED]
    assert not over_cap(times, CAP, LA)
    day8 = [m for m in msgs if "d" in m.parts]
    assert day8[0].send_at.astimezone(LA) == la(2026, 6, 18, 13)  # waits until it fits
