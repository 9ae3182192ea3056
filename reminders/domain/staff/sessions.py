"""Staff sessions and sign-in throttling as pure rules: when a session ends, when a login locks."""

from __future__ import annotations

import enum
import ipaddress
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
    """When failures within a window stop further tries.

    A hard lock (`lockout`) holds the key for a while: used for the second factor and a
    network, never for a password, since anyone who can guess a username could then keep
    a nurse out. A password gets a progressive delay instead (`delay_cap` set): past
    `max_failures`, each failure makes the next try wait twice as long, up to the cap.
    """

    max_failures: int  # failures within the window that lock (or start the delay)
    window: timedelta
    lockout: timedelta
    delay_cap: timedelta | None = None  # set: a progressive delay, not a lock

    @property
    def progressive(self) -> bool:
        return self.delay_cap is not None


@dataclass(frozen=True)
class ThrottleState:
    failures: int
    window_start: datetime
    locked_until: datetime | None = None  # a lock, or for a delay the earliest next try


def locked_until(state: ThrottleState | None, *, now: datetime) -> datetime | None:
    """When the lock (or delay) on this key ends, if it holds now."""
    if state is None or state.locked_until is None or state.locked_until <= now:
        return None
    return state.locked_until


def window_over(state: ThrottleState | None, *, now: datetime, policy: ThrottlePolicy) -> bool:
    """The count starts again: no state yet, or the window (for a delay: quiet) has passed."""
    if state is None:
        return True
    if policy.progressive:
        last = max(state.window_start, state.locked_until or state.window_start)
        return now - last > policy.window
    return now - state.window_start > policy.window


def after_failure(
    state: ThrottleState | None, *, now: datetime, policy: ThrottlePolicy
) -> ThrottleState:
    """Count one more failure.

    A lock: the one that reaches the limit locks for `lockout` (and starts a new count).
    A delay: the count goes on; from the limit on, the next try waits 1, 2, 4 ... seconds,
    never more than the cap, and the count starts again after a quiet window.
    """
    if window_over(state, now=now, policy=policy) or state is None:
        state = ThrottleState(failures=0, window_start=now)
    failures = state.failures + 1
    if policy.delay_cap is not None:
        if failures < policy.max_failures:
            return ThrottleState(failures=failures, window_start=state.window_start)
        wait = min(
            timedelta(seconds=2 ** min(failures - policy.max_failures, 20)), policy.delay_cap
        )
        return ThrottleState(failures, state.window_start, locked_until=now + wait)
    if failures >= policy.max_failures:
        return ThrottleState(failures=0, window_start=now, locked_until=now + policy.lockout)
    return ThrottleState(failures=failures, window_start=state.window_start)


def after_refusal(state: ThrottleState, *, now: datetime) -> ThrottleState:
    """A try refused while locked is counted (for the audit's summary), the lock unchanged."""
    return ThrottleState(state.failures + 1, state.window_start, state.locked_until)


def client_address(raw: str | None) -> str | None:
    """The client's address in its canonical form, or None when it is not an IP address.

    What a proxy header carried is typed by whoever sent the request: only a real address
    is stored (never "10.1.1.1 (nurse station 3)").
    """
    try:
        found = ipaddress.ip_address((raw or "").strip())
    except ValueError:
        return None
    if isinstance(found, ipaddress.IPv6Address) and found.ipv4_mapped is not None:
        found = found.ipv4_mapped
    return str(found)


def network_of(addr: str | None) -> str:
    """The network a throttle counts together: an IPv4 address, or an IPv6 /64.

    One IPv6 host holds a whole /64 and can pick a new address per request, so counting
    addresses apart would give it billions of fresh tries.
    """
    found = client_address(addr)
    if found is None:
        return "unknown"
    if ":" in found:
        return str(ipaddress.ip_network(f"{found}/64", strict=False))
    return found
