"""The sign-in throttle: failed attempts counted per account and per client address, and locks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reminders.adapters.unit_of_work import UnitOfWork
from reminders.domain.accounts import LoginLocked
from reminders.domain.sessions import ThrottlePolicy, after_failure, locked_until
from reminders.services import audit
from reminders.services.accounts import account_key


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
            raise LoginLocked(locked_message(until, now))


def record_failure(
    uow: UnitOfWork, attempt: Attempt, *, detail: str, now: datetime
) -> datetime | None:
    """Audit a failed attempt and count it on both keys; the end of a lock it caused, if any.

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
    locked: datetime | None = None
    for key, throttle in attempt.keys:
        state = after_failure(uow.throttle.get(key, for_update=True), now=now, policy=throttle)
        uow.throttle.put(key, state)
        if state.locked_until is not None:
            locked = max(locked or state.locked_until, state.locked_until)
            audit.record(
                uow,
                actor=attempt.actor,
                action="login_locked",
                detail=f"{throttle.max_failures} failures: {key.split(':')[0]} locked until"
                f" {state.locked_until:%H:%M} UTC",
                now=now,
                client_addr=attempt.client_addr,
            )
    return locked


def locked_message(until: datetime, now: datetime) -> str:
    minutes = max(1, int((until - now).total_seconds() + 59) // 60)
    return (
        f"Too many failed sign-ins. Sign-in is locked for {minutes} more minute(s);"
        " an admin can unlock the account with `reminders staff enable USERNAME`."
    )
