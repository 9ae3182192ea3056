"""Session expiry and the sign-in throttle as pure rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reminders.domain.staff.sessions import (
    SessionPolicy,
    StaffSession,
    Stage,
    ThrottlePolicy,
    after_failure,
    expiry_reason,
    locked_until,
)

T0 = datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
POLICY = SessionPolicy(idle=timedelta(minutes=30), absolute=timedelta(hours=12))
THROTTLE = ThrottlePolicy(
    max_failures=5, window=timedelta(minutes=15), lockout=timedelta(minutes=15)
)


def session(**kw):
    return StaffSession(
        **{"id": 1, "user_id": 1, "stage": Stage.OK, "created_at": T0, "last_seen_at": T0, **kw}
    )


def test_expiry_reasons():
    assert expiry_reason(session(), now=T0 + timedelta(minutes=30), policy=POLICY) is None
    assert expiry_reason(session(), now=T0 + timedelta(minutes=31), policy=POLICY) == "idle"
    busy = session(last_seen_at=T0 + timedelta(hours=12))
    assert expiry_reason(busy, now=T0 + timedelta(hours=12, minutes=1), policy=POLICY) == "lifetime"
    assert expiry_reason(session(ended_at=T0), now=T0, policy=POLICY) == "ended"
    pending = session(stage=Stage.MFA)
    assert (
        expiry_reason(pending, now=T0 + timedelta(minutes=11), policy=POLICY) == "pending_expired"
    )


def test_the_fifth_failure_in_the_window_locks_for_the_lockout():
    state = None
    for i in range(4):
        state = after_failure(state, now=T0 + timedelta(minutes=i), policy=THROTTLE)
        assert locked_until(state, now=T0 + timedelta(minutes=i)) is None
    state = after_failure(state, now=T0 + timedelta(minutes=4), policy=THROTTLE)
    until = T0 + timedelta(minutes=19)
    assert locked_until(state, now=T0 + timedelta(minutes=5)) == until
    assert locked_until(state, now=until) is None


def test_failures_outside_the_window_start_a_new_count():
    state = None
    for i in range(4):
        state = after_failure(state, now=T0 + timedelta(minutes=i), policy=THROTTLE)
    state = after_failure(state, now=T0 + timedelta(minutes=20), policy=THROTTLE)
    assert state.failures == 1 and state.locked_until is None
