"""The sign-in throttle: failed attempts counted per account and per client address, and locks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.domain.staff.accounts import LoginLocked
from reminders.domain.staff.sessions import ThrottlePolicy, after_failure, locked_until
from reminders.services import audit
from reminders.services.staff.accounts import account_key


@dataclass(frozen=True)
class Attempt:
    """Who tries to sign in and from where, with the limits for each of the two counters."""

    actor: str  # the username, or "(not a username)"
    client_addr: str | None
    account: ThrottlePolicy
    address: ThrottlePolicy

    @property
    def keys(self) -> tuple[tuple[str, ThrottlePolicy], ...]:
        address = f"address:{self.client_addr or 'unknown'}"
        return ((account_key(self.actor), self.account), (address, self.address))


def refuse_if_locked(uow: UnitOfWork, attempt: Attempt, *, now: datetime, audited: bool) -> None:
    """Raise LoginLocked (committing its audit row when asked) if the account or address is locked."""
    for key, _ in attempt.keys:
        until = locked_until(uow.throttle.get(key), now=now)
        if until is not None:
            if audited:
                audit.record(
                    uow,
                    actor=attempt.actor,
                    action="login_refused",
                    detail=f"locked ({key.split(':')[0]}) until {until:%H:%M} UTC",
                    now=now,
                    client_addr=attempt.client_addr,
                )
                uow.commit()
            raise LoginLocked(locked_message(until, now, key.split(":")[0]))


def record_failure(uow: UnitOfWork, attempt: Attempt, *, detail: str, now: datetime) -> str | None:
    """Audit a failed attempt and count it on both keys; the message of a lock it caused, if any.

    The caller commits (so the count survives the failed request) and raises.
    """
    audit.record(
        uow,
        actor=attempt.actor,
        action="login_failed",
        detail=detail,
        now=now,
        client_addr=attempt.client_addr,
    )
    message: str | None = None
    for key, throttle in attempt.keys:
        state = after_failure(uow.throttle.get(key, for_update=True), now=now, policy=throttle)
        uow.throttle.put(key, state)
        if state.locked_until is not None:
            # The account's lock is named first: it is the one an admin can lift.
            message = message or locked_message(state.locked_until, now, key.split(":")[0])
            audit.record(
                uow,
                actor=attempt.actor,
                action="login_locked",
                detail=f"{throttle.max_failures} failures: {key.split(':')[0]} locked until"
                f" {state.locked_until:%H:%M} UTC",
                now=now,
                client_addr=attempt.client_addr,
            )
    return message


def locked_message(until: datetime, now: datetime, kind: str) -> str:
    """What the person at the sign-in page reads: which lock, how long, and what lifts it.

    An account lock follows the account to any device, and an admin can lift it; an address
    lock holds every account on this device's network address and only time lifts it.
    """
    minutes = max(1, int((until - now).total_seconds() + 59) // 60)
    if kind == "address":
        return (
            "Too many failed sign-ins from this device's network address."
            f" Sign-in from here is paused for {minutes} more minute(s), for every account;"
            " wait and try again (unlocking an account does not lift this)."
        )
    return (
        "Too many failed sign-ins for this account. It is locked for"
        f" {minutes} more minute(s); wait, or ask an admin to unlock it"
        " (Accounts page: Enable, or `reminders staff enable USERNAME`)."
    )
