"""The sign-in throttle: failures counted per account, per second factor and per network.

Three counters (docs/security.md, "Sign-in throttle"):
- a password's failures per account slow the next try (a progressive delay, never a lock
  that a stranger who knows a username could hold on a nurse);
- a second factor's failures per account lock it (a correct password never resets this
  count: only a right code, or an admin, does);
- every failure per network (an IPv4 address, an IPv6 /64) locks that network.

The audit log gets one row per network per window (the first failure, with the name
tried), a row when a lock or delay starts, and a summary with the count when that
network's next window starts: never a row per refused request.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.domain.staff.accounts import LoginLocked
from reminders.domain.staff.sessions import (
    ThrottlePolicy,
    ThrottleState,
    after_failure,
    after_refusal,
    locked_until,
    network_of,
    window_over,
)
from reminders.services import audit


class Factor(enum.StrEnum):
    PASSWORD = "account"  # the key's prefix: account:NAME
    CODE = "mfa"  # mfa:NAME


@dataclass(frozen=True)
class Attempt:
    """Who tries which factor from where, with the limits of its two counters."""

    actor: str  # the username, or "(not a username)"
    client_addr: str | None
    factor: Factor
    account: ThrottlePolicy  # for PASSWORD a progressive delay, for CODE a lock
    network: ThrottlePolicy

    @property
    def account_key(self) -> str:
        return f"{self.factor.value}:{self.actor}"

    @property
    def network_key(self) -> str:
        return f"address:{network_of(self.client_addr)}"

    @property
    def keys(self) -> tuple[tuple[str, ThrottlePolicy], ...]:
        return ((self.account_key, self.account), (self.network_key, self.network))


def refuse_if_locked(uow: UnitOfWork, attempt: Attempt, *, now: datetime) -> None:
    """Raise LoginLocked if the account's factor or the network is held now.

    The refusal is counted on the network's row (the caller commits), not audited one by
    one: the count reaches the log in the network's summary.
    """
    for key, policy in attempt.keys:
        until = locked_until(uow.throttle.get(key), now=now)
        if until is None:
            continue
        network = uow.throttle.get(attempt.network_key, for_update=True)
        counted = (
            after_refusal(network, now=now)
            if network is not None
            else ThrottleState(failures=1, window_start=now)
        )
        uow.throttle.put(attempt.network_key, counted)
        raise LoginLocked(locked_message(until, now, key.split(":")[0], policy))


def record_failure(uow: UnitOfWork, attempt: Attempt, *, detail: str, now: datetime) -> str | None:
    """Count a failed attempt on both keys; the message of a lock or delay it started, if any.

    The caller commits (so the count survives the failed request) and raises.
    """
    message: str | None = None
    for key, policy in attempt.keys:
        before = uow.throttle.get(key, for_update=True)
        state = after_failure(before, now=now, policy=policy)
        uow.throttle.put(key, state)
        if key == attempt.network_key:
            _audit_network(uow, attempt, before, detail=detail, now=now)
        if state.locked_until is None:
            continue
        kind = key.split(":")[0]
        # The account's lock is named first: it is the one an admin can lift.
        message = message or locked_message(state.locked_until, now, kind, policy)
        if not policy.progressive or state.failures == policy.max_failures:
            what = "delayed" if policy.progressive else "locked"
            audit.record(
                uow,
                actor=attempt.actor,
                action="login_locked",
                detail=f"{policy.max_failures} failures: {kind} {what} until"
                f" {state.locked_until:%H:%M:%S} UTC",
                now=now,
                client_addr=attempt.client_addr,
            )
    return message


def _audit_network(
    uow: UnitOfWork,
    attempt: Attempt,
    before: ThrottleState | None,
    *,
    detail: str,
    now: datetime,
) -> None:
    """The first failure of a network's window is a row; the rest are a count."""
    if window_over(before, now=now, policy=attempt.network):
        summarise(uow, attempt, before, now=now)
        audit.record(
            uow,
            actor=attempt.actor,
            action="login_failed",
            detail=f"{detail} (the first from this network in this window;"
            " further failures are counted, not logged one by one)",
            now=now,
            client_addr=attempt.client_addr,
        )


def summarise(
    uow: UnitOfWork, attempt: Attempt, state: ThrottleState | None, *, now: datetime
) -> None:
    """One row with how many failed or refused tries a network's window held past its first."""
    if state is None or state.failures <= 1:
        return
    audit.record(
        uow,
        actor="(sign-in throttle)",
        action="login_failures",
        detail=f"{state.failures} failed or refused sign-ins from {network_of(attempt.client_addr)}"
        f" since {state.window_start:%Y-%m-%d %H:%M} UTC",
        now=now,
        client_addr=attempt.client_addr,
    )


def succeeded(uow: UnitOfWork, attempt: Attempt) -> None:
    """A right password or code: that factor's count starts again (the network's does not:
    someone with one good account must not wipe the count of guesses at others)."""
    uow.throttle.clear(attempt.account_key)


def locked_message(until: datetime, now: datetime, kind: str, policy: ThrottlePolicy) -> str:
    """What the person at the sign-in page reads: which hold, how long, and what lifts it."""
    seconds = max(1, int((until - now).total_seconds() + 0.999))
    minutes = max(1, (seconds + 59) // 60)
    if kind == "address":
        return (
            "Too many failed sign-ins from this device's network."
            f" Sign-in from here is paused for {minutes} more minute(s);"
            " wait and try again (unlocking an account does not lift this)."
        )
    if policy.progressive:
        return (
            "Too many wrong passwords for this account: wait"
            f" {seconds} second(s) before the next try, then sign in as usual."
        )
    return (
        "Too many wrong codes for this account's two-step sign-in. It is locked for"
        f" {minutes} more minute(s); wait, or ask an admin to unlock it"
        " (Accounts page: Enable, or `reminders staff enable USERNAME`)."
    )
