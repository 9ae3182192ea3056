"""expand_care_plan: quiet hours, the SMS cap, merging, deadlines and consent."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
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
from reminders.domain.planning.schedule import (
    CATCH_UP,
    SchedulePolicy,
    SendHistory,
    expand_care_plan,
)
from reminders.domain.planning.sms_cap import SmsCap

LA = ZoneInfo("America/Los_Angeles")
NOON = datetime(2026, 5, 4, 12, 0, tzinfo=LA)


def plan_of(*steps, **extra):
    data = {"procedure": "test", "languages": ["en"], "title": {"en": "test"}, "steps": []}
    for i, step in enumerate(steps):
        step = {"key": f"s{i}", "category": "rest", **step}
        data["steps"].append(step)
    data.update(extra)
    return parse_care_plan(data, source="test")


def patient(tz="America/Los_Angeles", phone="+18055550100", email="a@example.org"):
    return Patient("Ana", "Lopez", phone, email, "en", tz)


def consent(*channels, method=ConsentMethod.VERBAL, more=False):
    return [Consent(c, True, method, "nurse", NOON, more_frequent_sms=more) for c in channels]


BOTH = consent(Channel.SMS, Channel.EMAIL)


def expand(plan, when=NOON, *, who=None, consents=BOTH, now=None, **kw):
    proc = ProcedureRecord("test", when.astimezone(UTC), **kw)
    return expand_care_plan(plan, proc, who or patient(), consents, now=now or when)


def sms_of(messages):
    return [m for m in messages if m.channel is Channel.SMS and m.status is MessageStatus.SCHEDULED]


def test_a_step_at_night_moves_to_8am_and_one_at_dawn_too():
    plan = plan_of({"at": "+10h"}, {"at": "day 2 at 06:00", "channels": ["email"]})
    msgs = expand(plan)
    local = [m.send_at.astimezone(LA) for m in msgs]
    assert local[0] == datetime(2026, 5, 5, 8, 0, tzinfo=LA)  # 22:00 -> next 08:00
    assert datetime(2026, 5, 6, 8, 0, tzinfo=LA) in local


def test_same_day_sms_merge_into_one_text_but_emails_stay_separate():
    plan = plan_of(
        {"at": "day 1 at 09:00"},
        {"at": "day 1 at 15:00", "checkin": "pain"},
        {"at": "day 1 at 10:00"},
    )
    msgs = expand(plan)
    (text,) = sms_of(msgs)
    # the check-in question goes last so the text ends with what to reply
    assert text.parts == ("s0", "s2", "s1")
    assert text.checkin == "pain"
    assert text.send_at.astimezone(LA).hour == 9
    assert len([m for m in msgs if m.channel is Channel.EMAIL]) == 3


def test_weekly_cap_carries_a_text_into_the_next_one():
    # days 1..5 each want a text; 3 fit in any 7 days; the rest ride along if still fresh
    plan = plan_of(
        *({"at": f"day {d} at 10:00", "stale_after": "4d"} for d in range(1, 6)),
        {"at": "day 8 at 10:00"},
    )
    texts = sms_of(expand(plan))
    days = [(t.send_at.astimezone(LA).date() - NOON.date()).days for t in texts]
    assert days == [1, 2, 3, 8]
    assert texts[-1].parts == ("s3", "s4", "s5")


def test_a_carried_text_past_its_deadline_is_skipped_visibly():
    plan = plan_of(*({"at": f"day {d} at 10:00"} for d in range(1, 5)), {"at": "day 9 at 10:00"})
    msgs = expand(plan)
    skipped = [m for m in msgs if m.status is MessageStatus.SKIPPED]
    assert [m.step_key for m in skipped] == ["s3"]
    assert "SMS limit" in skipped[0].status_reason
    assert all(m.channel is Channel.SMS for m in skipped)


def test_written_consent_to_more_lifts_the_daily_cap():
    plan = plan_of({"at": "day 1 at 09:00"}, {"at": "day 1 at 15:00"})
    lifted = consent(Channel.SMS, method=ConsentMethod.WRITTEN, more=True)
    assert len(sms_of(expand(plan, consents=lifted))) == 2
    verbal = consent(Channel.SMS, method=ConsentMethod.VERBAL, more=True)
    assert len(sms_of(expand(plan, consents=verbal))) == 1


def test_only_the_first_text_says_how_to_opt_out():
    plan = plan_of({"at": "day 1 at 09:00"}, {"at": "day 2 at 09:00"})
    assert [t.first_sms for t in sms_of(expand(plan))] == [True, False]
    history = SendHistory(sms_sent_at=(NOON.astimezone(UTC),))
    proc = ProcedureRecord("test", NOON.astimezone(UTC))
    again = expand_care_plan(plan, proc, patient(), BOTH, now=NOON, history=history)
    assert not any(m.first_sms for m in again)


def test_stale_steps_are_skipped_when_enrolled_late():
    plan = plan_of({"at": "+2h", "stale_after": "6h"}, {"at": "day 3 at 10:00"})
    msgs = expand(plan, now=NOON + timedelta(days=1))
    first = [m for m in msgs if m.step_key == "s0"]
    assert {m.status for m in first} == {MessageStatus.SKIPPED}
    assert "passed at enrollment" in first[0].status_reason
    assert {m.status for m in msgs if m.step_key == "s1"} == {MessageStatus.SCHEDULED}


def test_a_late_but_fresh_step_goes_out_at_once_outside_quiet_hours():
    plan = plan_of({"at": "+1h", "stale_after": "24h"})
    now = NOON + timedelta(hours=3)
    assert {m.send_at for m in expand(plan, now=now)} == {now.astimezone(UTC)}


def test_quiet_hours_past_deadline_skip_rather_than_send_late():
    plan = plan_of({"at": "+2h", "stale_after": "4h"})
    late_evening = datetime(2026, 5, 4, 22, 0, tzinfo=LA)
    (sms, email) = sorted(expand(plan, late_evening), key=lambda m: m.channel != Channel.SMS)
    assert sms.status is email.status is MessageStatus.SKIPPED
    assert "quiet hours" in sms.status_reason


def test_conditions_select_steps():
    plan = plan_of(
        {"at": "day 1 at 09:00", "only_if": "overnight"},
        {"at": "day 1 at 09:00", "only_if": "same_day", "channels": ["email"]},
        {"at": "day 2 at 09:00", "only_if": "multilevel", "channels": ["email"]},
    )
    assert {m.step_key for m in expand(plan, overnight=True)} == {"s0"}
    assert {m.step_key for m in expand(plan, levels=2)} == {"s1", "s2"}


def test_sms_only_steps_reach_a_patient_without_email_and_merge_into_the_days_text():
    plan = plan_of(
        {"at": "day 1 at 13:00", "channels": ["sms"]},
        {"at": "day 1 at 13:00", "channels": ["sms"], "only_if": ["sms_only", "same_day"]},
        {"at": "day 1 at 10:00", "channels": ["email"]},
    )
    texts = sms_of(expand(plan, consents=consent(Channel.SMS)))
    assert [m.parts for m in texts] == [("s0", "s1")]  # one text a day: merged
    assert [m.parts for m in sms_of(expand(plan))] == [("s0",)]  # email consent too: not sent
    assert sms_of(expand(plan, consents=consent(Channel.SMS), overnight=True))[0].parts == ("s0",)
    no_email = patient(email=None)  # consent to email but nowhere to send it: text-only
    assert [m.parts for m in sms_of(expand(plan, who=no_email))] == [("s0", "s1")]


def test_channels_follow_consent_and_contact():
    plan = plan_of({"at": "day 1 at 09:00"})
    assert {m.channel for m in expand(plan, consents=consent(Channel.EMAIL))} == {Channel.EMAIL}
    no_phone = patient(phone=None)
    assert {m.channel for m in expand(plan, who=no_phone)} == {Channel.EMAIL}
    assert expand(plan, consents=[]) == []


def test_steps_already_sent_are_not_planned_again():
    plan = plan_of({"at": "day 1 at 09:00"}, {"at": "day 2 at 09:00"})
    history = SendHistory(sent_parts=frozenset({("s0", Channel.SMS), ("s0", Channel.EMAIL)}))
    proc = ProcedureRecord("test", NOON.astimezone(UTC))
    msgs = expand_care_plan(plan, proc, patient(), BOTH, now=NOON, history=history)
    assert {m.step_key for m in msgs} == {"s1"}


# --- late enrollment: the warning signs are caught up, never skipped -----------------------

HONOLULU, KOLKATA = ZoneInfo("Pacific/Honolulu"), ZoneInfo("Asia/Kolkata")
SAFE = {"facts": {"warn": {"en": "911"}}, "catch_up_facts": ["warn"]}
# The shape of the kyphoplasty plan: a day-0 warning text, a day-0 email, the day-1 text.
WARN, TIP, DAY1 = (
    {"at": "+2h", "stale_after": "16h", "channels": ["sms"], "facts": ["warn"]},
    {"at": "+3h", "stale_after": "18h", "channels": ["email"]},
    {"at": "+26h", "channels": ["sms"], "checkin": "pain"},
)
TEXT_ONLY = consent(Channel.SMS)


def by_key(messages):
    return {(m.step_key, m.channel): m for m in messages}


def test_a_late_warning_text_goes_at_once_as_the_first_text_and_the_days_text_waits():
    plan = plan_of(WARN, TIP, DAY1, **SAFE)
    now = NOON + timedelta(hours=30)  # 18:00 the next day: the warning text is stale
    msgs = by_key(expand(plan, consents=BOTH, now=now))
    warn = msgs["s0", Channel.SMS]
    assert warn.status is MessageStatus.SCHEDULED
    assert warn.send_at == now.astimezone(UTC) and warn.first_sms
    assert warn.status_reason == CATCH_UP  # staff see why it goes late
    assert warn.deadline >= warn.send_at + timedelta(days=7)
    # Another stale step is still skipped, with its reason.
    assert msgs["s1", Channel.EMAIL].status is MessageStatus.SKIPPED
    assert "passed at enrollment" in msgs["s1", Channel.EMAIL].status_reason
    # The day-1 check-in is never merged into the warning text (one is a text's whole
    # budget) and the cap allows 1 a day: it moves to 08:00 the next morning.
    day1 = msgs["s2", Channel.SMS]
    assert day1.parts == ("s2",) and not day1.first_sms
    assert day1.send_at.astimezone(LA) == datetime(2026, 5, 6, 8, 0, tzinfo=LA)


def test_a_late_warning_email_goes_at_once_for_an_email_only_patient():
    plan = plan_of({**WARN, "channels": ["email"]}, TIP, **SAFE)
    now = NOON + timedelta(days=5)
    msgs = by_key(expand(plan, consents=consent(Channel.EMAIL), now=now))
    assert msgs["s0", Channel.EMAIL].status is MessageStatus.SCHEDULED
    assert msgs["s0", Channel.EMAIL].send_at == now.astimezone(UTC)
    assert msgs["s1", Channel.EMAIL].status is MessageStatus.SKIPPED


def test_a_text_whose_day_the_catch_up_took_gets_a_day_more_to_go():
    plan = plan_of(WARN, DAY1, **SAFE)
    at = datetime(2026, 5, 4, 20, 0, tzinfo=LA)  # the day-1 text: 22:00 on the 5th, 24 h fresh
    msgs = by_key(expand(plan, at, consents=TEXT_ONLY, now=at + timedelta(hours=30)))
    warn, day1 = msgs["s0", Channel.SMS], msgs["s1", Channel.SMS]
    assert warn.send_at.astimezone(LA) == datetime(2026, 5, 6, 8, 0, tzinfo=LA)
    # The 6th is the catch-up's: the day-1 text goes on the 7th, not dropped at its deadline.
    assert day1.status is MessageStatus.SCHEDULED
    assert day1.send_at.astimezone(LA) == datetime(2026, 5, 7, 8, 0, tzinfo=LA)
    assert day1.deadline == datetime(2026, 5, 7, 22, 0, tzinfo=LA).astimezone(UTC)


def test_a_late_but_fresh_warning_text_goes_alone_and_keeps_its_deadline():
    plan = plan_of(WARN, DAY1, **SAFE)
    at = datetime(2026, 5, 4, 15, 0, tzinfo=LA)  # the warning text: 17:00, fresh until 09:00
    now = at + timedelta(hours=17)  # 08:00 the next day, the day of the day-1 text (17:00)
    msgs = by_key(expand(plan, at, consents=TEXT_ONLY, now=now))
    warn, day1 = msgs["s0", Channel.SMS], msgs["s1", Channel.SMS]
    # Not merged into one text with the day-1 check-in (that was 4 segments long).
    assert warn.parts == ("s0",) and warn.send_at == now.astimezone(UTC) and warn.first_sms
    assert warn.deadline == datetime(2026, 5, 5, 9, 0, tzinfo=LA).astimezone(UTC)
    assert day1.send_at.astimezone(LA) == datetime(2026, 5, 6, 8, 0, tzinfo=LA)


def test_enrolled_before_its_time_a_warning_text_is_planned_as_ever():
    plan = plan_of(WARN, DAY1, **SAFE)
    msgs = by_key(expand(plan, consents=TEXT_ONLY, now=NOON + timedelta(minutes=90)))
    assert msgs["s0", Channel.SMS].status_reason is None  # on time: no catch-up


def test_without_catch_up_facts_a_late_warning_is_skipped_as_before():
    plan = plan_of(WARN, DAY1, facts=SAFE["facts"])
    msgs = by_key(expand(plan, consents=TEXT_ONLY, now=NOON + timedelta(hours=30)))
    assert msgs["s0", Channel.SMS].status is MessageStatus.SKIPPED


@pytest.mark.parametrize(
    ("zone", "procedure_hour", "late", "expected"),
    [
        # enrolled at 23:30 local: the catch-up waits for 08:00, never 3 a.m.
        (LA, 17, timedelta(hours=30, minutes=30), datetime(2026, 5, 6, 8, 0)),
        (HONOLULU, 17, timedelta(hours=30, minutes=30), datetime(2026, 5, 6, 8, 0)),
        (KOLKATA, 17, timedelta(hours=30, minutes=30), datetime(2026, 5, 6, 8, 0)),
        (KOLKATA, 9, timedelta(hours=17), datetime(2026, 5, 5, 8, 0)),  # 02:00 -> 08:00
        (HONOLULU, 10, timedelta(days=10), datetime(2026, 5, 14, 10, 0)),
        (LA, 10, timedelta(days=60), datetime(2026, 7, 3, 10, 0)),
    ],
)
def test_a_catch_up_respects_quiet_hours_in_the_patients_zone(zone, procedure_hour, late, expected):
    plan = plan_of(WARN, DAY1, **SAFE)
    at = datetime(2026, 5, 4, procedure_hour, 0, tzinfo=zone)
    who = patient(zone.key, email=None)
    msgs = by_key(expand(plan, at, who=who, consents=TEXT_ONLY, now=at + late))
    warn = msgs["s0", Channel.SMS]
    assert warn.status is MessageStatus.SCHEDULED and warn.first_sms
    assert warn.send_at.astimezone(zone) == expected.replace(tzinfo=zone)
    texts = sms_of(msgs.values())
    assert texts[0] is warn
    days = [t.send_at.astimezone(zone).date() for t in texts]
    assert len(days) == len(set(days)), "two texts on one local day"


def test_with_written_consent_to_more_texts_the_catch_up_still_goes_first():
    plan = plan_of(WARN, DAY1, **SAFE)
    lifted = consent(Channel.SMS, method=ConsentMethod.WRITTEN, more=True)
    now = NOON + timedelta(hours=30)
    texts = sms_of(expand(plan, consents=lifted, now=now))
    assert [t.parts for t in texts] == [("s0",), ("s1",)]  # same moment, never merged
    assert texts[0].send_at == texts[1].send_at and texts[0].first_sms


def test_replanning_never_sends_a_warning_that_went_out_and_waits_for_room_under_the_cap():
    plan = plan_of(WARN, DAY1, **SAFE)
    now = NOON + timedelta(days=3)
    sent = SendHistory(sent_parts=frozenset({("s0", Channel.SMS)}), sms_sent_at=(NOON,))
    proc = ProcedureRecord("test", NOON.astimezone(UTC))
    again = expand_care_plan(plan, proc, patient(), TEXT_ONLY, now=now, history=sent)
    assert not any("s0" in m.parts for m in again)
    # Never sent, but three texts went out in the last days: it waits for the week to
    # free room (not merged into another text, not skipped), and is not the "first" text.
    full = SendHistory(sms_sent_at=tuple(now - timedelta(days=d) for d in (0.5, 1.5, 2.5)))
    again = by_key(expand_care_plan(plan, proc, patient(), TEXT_ONLY, now=now, history=full))
    warn = again["s0", Channel.SMS]
    assert warn.status is MessageStatus.SCHEDULED and warn.parts == ("s0",)
    assert warn.send_at >= now - timedelta(days=2.5) + timedelta(hours=168)
    assert not warn.first_sms


def test_a_catch_up_never_goes_after_the_plan_ends():
    plan = plan_of(WARN, **SAFE, duration_days=10)
    at = datetime(2026, 5, 4, 22, 0, tzinfo=LA)
    end = (at + timedelta(days=10)).astimezone(UTC)
    (warn,) = expand(plan, at, consents=TEXT_ONLY, now=at + timedelta(days=9))
    assert warn.status is MessageStatus.SCHEDULED and warn.deadline == end
    # enrolled at 21:30 on the plan's last day: 08:00 tomorrow is past its end
    (warn,) = expand(plan, at, consents=TEXT_ONLY, now=end - timedelta(minutes=30))
    assert warn.status is MessageStatus.SKIPPED


# --- properties -------------------------------------------------------------------------

ZONES = [
    "America/Los_Angeles",
    "America/New_York",
    "America/Phoenix",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "America/Santiago",
    "UTC",
]
# Procedure times cluster around 2026 clock changes in several of those zones.
TRANSITIONS = [
    datetime(2026, 3, 8, 10, tzinfo=UTC),
    datetime(2026, 11, 1, 9, tzinfo=UTC),
    datetime(2026, 3, 29, 1, tzinfo=UTC),
    datetime(2026, 4, 5, 2, tzinfo=UTC),
    datetime(2026, 10, 25, 1, tzinfo=UTC),
    datetime(2026, 9, 6, 3, tzinfo=UTC),
]

step_strategy = st.one_of(
    st.builds(lambda h: {"at": f"+{h}h"}, st.integers(0, 72)),
    st.builds(
        lambda d, h, m: {"at": f"day {d} at {h:02d}:{m:02d}"},
        st.integers(0, 30),
        st.integers(0, 23),
        st.integers(0, 59),
    ),
).flatmap(
    lambda s: st.builds(
        lambda stale, ch, ci, warn: {
            **s,
            "stale_after": f"{stale}h",
            "channels": ch,
            **({"checkin": ci} if ci else {}),
            **({"facts": ["warn"]} if warn else {}),  # a step with a catch-up fact
        },
        st.integers(1, 120),
        st.sampled_from([["sms"], ["email"], ["sms", "email"]]),
        st.sampled_from([None, "pain", "warning"]),
        st.booleans(),
    )
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=st.lists(step_strategy, min_size=1, max_size=25),
    zone=st.sampled_from(ZONES),
    base=st.sampled_from(TRANSITIONS),
    offset_minutes=st.integers(-3 * 24 * 60, 3 * 24 * 60),
    late_minutes=st.integers(0, 3 * 24 * 60),
    per_day=st.integers(1, 3),
    per_week=st.integers(1, 7),
)
def test_properties_of_every_expansion(
    steps, zone, base, offset_minutes, late_minutes, per_day, per_week
):
    assume(per_week >= per_day)
    policy = SchedulePolicy(sms_cap=SmsCap(per_day, per_week))
    plan = plan_of(*steps, **SAFE)
    tz = ZoneInfo(zone)
    performed = base + timedelta(minutes=offset_minutes)
    now = performed + timedelta(minutes=late_minutes)
    proc = ProcedureRecord("test", performed)
    msgs = expand_care_plan(plan, proc, patient(zone), BOTH, now=now, policy=policy)
    scheduled = [m for m in msgs if m.status is MessageStatus.SCHEDULED]

    # Every step is accounted for on every channel it asks for: planned, or skipped with why.
    for i, step in enumerate(steps):
        for ch in step["channels"]:
            assert any(f"s{i}" in m.parts and m.channel == ch for m in msgs)
    assert all(m.status_reason for m in msgs if m.status is MessageStatus.SKIPPED)

    for m in scheduled:
        local = m.send_at.astimezone(tz).time()
        assert policy.quiet_hours.start <= local < policy.quiet_hours.end, "sent in quiet hours"
        assert m.send_at <= m.deadline, "sent after its deadline"
        assert m.send_at >= now - timedelta(seconds=1), "scheduled in the past"

    days = sorted(m.send_at.astimezone(tz).date() for m in sms_of(msgs))
    for d in set(days):
        assert days.count(d) <= per_day, "over the daily SMS cap"
    times = sorted(m.send_at for m in sms_of(msgs))
    for t in times:
        in_window = [x for x in times if t <= x < t + timedelta(hours=168)]
        assert len(in_window) <= per_week, "over the SMS cap in some 168 hours"

    # A step with a catch-up fact whose time had passed is never skipped as stale: it goes
    # alone, unless the cap leaves no room for it within its week.
    planned = {f"s{i}": step.time.resolve(performed, tz) for i, step in enumerate(plan.steps)}
    caught_up = [m for m in scheduled if m.status_reason == CATCH_UP]
    for m in msgs:
        if plan.catches_up(plan.step(m.parts[0])):
            assert m.status is MessageStatus.SCHEDULED or not m.status_reason.startswith("stale")
    assert all(len(m.parts) == 1 for m in caught_up), "a catch-up merged into another text"

    # Order is kept: on one channel, a step planned earlier never goes out after a later one
    # (a catch-up goes ahead of what else is due).
    for ch in (Channel.SMS, Channel.EMAIL):
        sent = {
            p: m.send_at
            for m in scheduled
            if m.channel is ch and m not in caught_up
            for p in m.parts
        }
        for a in sent:
            for b in sent:
                if planned[a] < planned[b]:
                    assert sent[a] <= sent[b], f"{a} planned before {b} but sent after it"

    texts = sms_of(msgs)
    assert [t.first_sms for t in texts] == [i == 0 for i in range(len(texts))]
