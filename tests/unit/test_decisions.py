"""send_decision: go, wait or skip, by the guardrails each kind of message declares."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reminders.domain.lifecycles.enrollment import EnrollmentStatus
from reminders.domain.lifecycles.message import MessageStatus, Reason
from reminders.domain.outbound.decisions import (
    GUARDRAILS,
    KINDS,
    DecisionFacts,
    Defer,
    Go,
    Kind,
    Skip,
    Whose,
)
from reminders.domain.outbound.decisions import send_decision as decide_with
from reminders.domain.planning.schedule import SchedulePolicy
from reminders.domain.planning.sms_cap import SmsCap

POLICY = SchedulePolicy()

LA = ZoneInfo("America/Los_Angeles")


def la(*args: int) -> datetime:
    return datetime(*args, tzinfo=LA)


NOON = la(2026, 5, 4, 12)


def ctx(kind: Kind = Kind.CARE, **kw) -> DecisionFacts:
    """Facts of a text that may go, with the changes a test names (in the old words)."""
    is_sms = kw.pop("is_sms", True)
    active = kw.pop("enrollment_active", True)
    cap = kw.pop("sms_cap", None)
    base = {
        "kind": kind,
        "channel": "sms" if is_sms else "email",
        "recipient": KINDS[kind].recipient,
        "enrollment": EnrollmentStatus.ACTIVE if active else EnrollmentStatus.CANCELLED,
        "consent_given": True,
        "opted_out": False,
        "cap_lifted": cap == POLICY.sms_cap_with_written_consent,
        "deadline": NOON + timedelta(days=2),
        "zone": LA,
        "other_texts": (),
    }
    return DecisionFacts(**{**base, **kw})


def send_decision(facts: DecisionFacts, now: datetime):
    return decide_with(facts, POLICY, now)


def test_a_due_text_in_the_day_goes():
    assert send_decision(ctx(), NOON) == Go()


@pytest.mark.parametrize(
    ("change", "status", "reason"),
    [
        ({"enrollment_active": False}, MessageStatus.CANCELLED, Reason.ENROLLMENT_CANCELLED),
        ({"opted_out": True}, MessageStatus.CANCELLED, Reason.OPTED_OUT),
        ({"consent_given": False}, MessageStatus.SKIPPED, Reason.NO_CONSENT),
        ({"deadline": NOON - timedelta(minutes=1)}, MessageStatus.SKIPPED, Reason.STALE),
    ],
)
def test_a_patient_text_is_not_sent_without_each_guardrail(change, status, reason):
    decision = send_decision(ctx(**change), NOON)
    assert isinstance(decision, Skip)
    assert (decision.status, decision.reason) == (status, reason)
    assert decision.detail


def test_at_night_a_text_waits_for_the_patients_morning():
    decision = send_decision(ctx(), la(2026, 5, 4, 23))
    assert decision == Defer(la(2026, 5, 5, 8), Reason.QUIET_HOURS, decision.detail)


def test_at_night_a_text_whose_deadline_is_before_morning_is_skipped():
    decision = send_decision(ctx(deadline=la(2026, 5, 5, 7)), la(2026, 5, 4, 23))
    assert isinstance(decision, Skip) and decision.reason is Reason.STALE


def test_a_second_text_the_same_day_waits_for_room_under_the_cap():
    decision = send_decision(ctx(other_texts=(la(2026, 5, 4, 9),)), NOON)
    assert isinstance(decision, Defer)
    assert (decision.until, decision.reason) == (la(2026, 5, 5, 8), Reason.SMS_LIMIT)


def test_no_room_before_the_deadline_skips_for_the_sms_limit():
    decision = send_decision(
        ctx(other_texts=(la(2026, 5, 4, 9),), deadline=la(2026, 5, 4, 20)), NOON
    )
    assert isinstance(decision, Skip) and decision.reason is Reason.SMS_LIMIT


def test_written_consent_to_more_lifts_the_cap():
    decision = send_decision(ctx(other_texts=(la(2026, 5, 4, 9),), sms_cap=SmsCap(3, 21)), NOON)
    assert decision == Go()


def test_email_ignores_the_sms_cap_but_not_quiet_hours():
    assert send_decision(ctx(is_sms=False, other_texts=(la(2026, 5, 4, 9),)), NOON) == Go()
    assert isinstance(send_decision(ctx(is_sms=False), la(2026, 5, 4, 22)), Defer)


def test_an_oncall_alert_goes_at_3am_whatever_the_patient_rules_say():
    night = la(2026, 5, 4, 3)
    alert = ctx(
        Kind.ONCALL_PAGE,
        opted_out=True,
        consent_given=False,
        enrollment_active=False,
        deadline=night - timedelta(days=1),
        other_texts=(night, night),
    )
    assert send_decision(alert, night) == Go()


def test_every_kind_declares_its_guardrails():
    assert set(GUARDRAILS) == set(Kind)
    patient_kinds = {Kind.CARE, Kind.RESEND, Kind.CHECKIN_REMINDER, Kind.CAREGIVER}
    for kind in patient_kinds:
        rules = GUARDRAILS[kind]
        assert rules.quiet_hours and rules.sms_cap and rules.consent and rules.opt_out


hours = st.integers(0, 24 * 14).map(lambda h: la(2026, 5, 1) + timedelta(hours=h))


@settings(max_examples=300, deadline=None)
@given(
    now=hours,
    texts=st.lists(hours, max_size=5),
    deadline_h=st.integers(0, 24 * 5),
    kind=st.sampled_from([Kind.CARE, Kind.RESEND, Kind.CHECKIN_REMINDER]),
)
def test_a_patient_text_never_goes_at_night_over_the_cap_or_late(now, texts, deadline_h, kind):
    c = ctx(kind, deadline=now + timedelta(hours=deadline_h), other_texts=tuple(texts))
    decision = send_decision(c, now)
    if isinstance(decision, Skip):
        return
    when = now if isinstance(decision, Go) else decision.until
    assert c.deadline is not None
    assert when >= now and when <= c.deadline
    assert 8 <= when.astimezone(LA).hour < 21
    assert POLICY.sms_cap.fits(texts, when, LA)


# ---- every kind x every guardrail fact --------------------------------------------------

NIGHT = la(2026, 5, 4, 23)
# Each guardrail's fact, as the one change that trips it: (field, value, when, reason).
TRIPS = {
    "enrollment": ({"enrollment": EnrollmentStatus.PAUSED}, NOON, Reason.ENROLLMENT_CANCELLED),
    "opt_out": ({"opted_out": True}, NOON, Reason.OPTED_OUT),
    "consent": ({"consent_given": False}, NOON, Reason.NO_CONSENT),
    "deadline": ({"deadline": NOON - timedelta(minutes=1)}, NOON, Reason.STALE),
    "quiet_hours": ({}, NIGHT, Reason.QUIET_HOURS),
    "sms_cap": ({"other_texts": (la(2026, 5, 4, 9),)}, NOON, Reason.SMS_LIMIT),
}


@pytest.mark.parametrize("kind", list(Kind))
@pytest.mark.parametrize("guardrail", list(TRIPS))
@pytest.mark.parametrize("channel", ["sms", "email", "voice"])
def test_each_kind_obeys_exactly_the_guardrails_it_declares(kind, guardrail, channel):
    change, now, reason = TRIPS[guardrail]
    facts = ctx(kind, channel=channel, **change)
    decision = send_decision(facts, now)
    applies = getattr(KINDS[kind].guardrails, guardrail)
    if guardrail in ("opt_out", "sms_cap") and channel == "email":
        applies = False  # an email has no phone to opt out or to cap
    if applies:
        assert not isinstance(decision, Go), f"{kind} ignored {guardrail}"
        assert decision.reason is reason
    else:
        assert decision == Go(), f"{kind} was stopped by {guardrail}, which it does not obey"


def test_patient_kinds_obey_every_guardrail_and_staff_kinds_none():
    for kind, rules in KINDS.items():
        flags = set(vars(rules.guardrails).values())
        assert flags == ({False} if rules.recipient is Whose.STAFF else {True}), kind


@pytest.mark.parametrize("kind", [k for k, r in KINDS.items() if r.guardrails.deadline])
def test_a_kind_with_a_deadline_cannot_be_decided_without_one(kind):
    with pytest.raises(ValueError, match="deadline"):
        ctx(kind, deadline=None)


@pytest.mark.parametrize("kind", [k for k, r in KINDS.items() if r.guardrails.enrollment])
def test_a_patient_kind_cannot_be_decided_without_its_enrollment(kind):
    with pytest.raises(ValueError, match="enrollment"):
        ctx(kind, enrollment=None)


def test_facts_have_no_defaults():
    with pytest.raises(TypeError):
        DecisionFacts(kind=Kind.CARE, channel="sms")  # type: ignore[call-arg]


def test_a_message_to_the_wrong_recipient_for_its_kind_is_refused():
    with pytest.raises(ValueError, match="goes to"):
        ctx(Kind.CAREGIVER, recipient=Whose.PATIENT)
