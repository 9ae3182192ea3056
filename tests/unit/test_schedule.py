"""expand_care_plan: quiet hours, the SMS cap, merging, deadlines and consent."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from reminders.domain.careplan import parse_care_plan
from reminders.domain.model import (
    Channel,
    Consent,
    ConsentMethod,
    MessageStatus,
    Patient,
    ProcedureRecord,
)
from reminders.domain.schedule import SchedulePolicy, SendHistory, expand_care_plan
from reminders.domain.sms_cap import SmsCap

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
        lambda stale, ch, ci: {
            **s,
            "stale_after": f"{stale}h",
            "channels": ch,
            **({"checkin": ci} if ci else {}),
        },
        st.integers(1, 120),
        st.sampled_from([["sms"], ["email"], ["sms", "email"]]),
        st.sampled_from([None, "pain", "warning"]),
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
    plan = plan_of(*steps)
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

    # Order is kept: on one channel, a step planned earlier never goes out after a later one.
    planned = {f"s{i}": step.time.resolve(performed, tz) for i, step in enumerate(plan.steps)}
    for ch in (Channel.SMS, Channel.EMAIL):
        sent = {p: m.send_at for m in scheduled if m.channel is ch for p in m.parts}
        for a in sent:
            for b in sent:
                if planned[a] < planned[b]:
                    assert sent[a] <= sent[b], f"{a} planned before {b} but sent after it"

    texts = sms_of(msgs)
    assert [t.first_sms for t in texts] == [i == 0 for i in range(len(texts))]
