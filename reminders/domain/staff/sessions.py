"""Staff sessions and sign-in throttling as pure rules: when a session ends, when a login locks."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta


class Stage(enum.StrEnum):
    MFA = "mfa"  # password right, the second factor still to give
    ENROL = "enrol"  # password right, a second factor must be set up first
    OK = "ok"  # fully signed in


@dataclass(frozen=True)
class StaffSession:
    id: int
    user_id: int
    stage: Stage
    created_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None = None
    client_addr: str | None = None
    flash: str | None = None


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta
    absolute: timedelta
    # A half-signed-in session (second factor pending) lasts only this long.
    pending: timedelta = timedelta(minutes=10)


def expiry_reason(session: StaffSession, *, now: datetime, policy: SessionPolicy) -> str | None:
    """Why this session can no longer be used, or None if it is live."""
    if session.ended_at is not None:
        return "ended"
    if session.stage is not Stage.OK and now - session.created_at > policy.pending:
        return "pending_expired"
    if now - session.last_seen_at > policy.idle:
        return "idle"
    if now - session.created_at > policy.absolute:
        return "lifetime"
    return None


@dataclass(frozen=True)
class ThrottlePolicy:
    max_failures: int  # failures within the window that lock
    window: timedelta
    lockout: timedelta


@dataclass(frozen=True)
class ThrottleState:
    failures: int
    window_start: datetime
    locked_until: datetime | None = None


def locked_until(state: ThrottleState | None, *, now: datetime) -> datetime | None:
    """When the lock on this account or address ends, if it is locked now."""
    if state is None or state.locked_until is None or state.locked_until <= now:
        return None
    return state.locked_until


def after_failure(
    state: ThrottleState | None, *, now: datetime, policy: ThrottlePolicy
) -> ThrottleState:
    """Count one more failure; the one that reaches the limit locks (and starts a new count)."""
    if state is None or now - state.window_start > policy.window:
        state = ThrottleState(failures=0, window_start=now)
    failures = state.failures + 1
    if failures >= policy.max_failures:
        return ThrottleState(failures=0, window_start=now, locked_until=now + policy.lockout)
    return ThrottleState(failures=failures, window_start=state.window_start)
