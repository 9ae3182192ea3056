"""Staff sign-in and sessions: throttled password check, server-side sessions, sign-out, flashes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.domain.staff.accounts import USERNAME, InvalidCredentials, LoginLocked, StaffUser
from reminders.domain.staff.sessions import (
    SessionPolicy,
    StaffSession,
    Stage,
    ThrottlePolicy,
    expiry_reason,
)
from reminders.services import audit
from reminders.services.staff import second_factor
from reminders.services.staff.accounts import (
    hash_password,
    needs_rehash,
    password_matches,
    stored_credentials,
)
from reminders.services.staff.login_throttle import (
    Attempt,
    Factor,
    record_failure,
    refuse_if_locked,
    succeeded,
)

# last_seen_at is written at most this often: a page load should not always be a write.
_TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class SignInPolicy:
    password: ThrottlePolicy  # per account: a progressive delay (never a lock)
    code: ThrottlePolicy  # per account, the second factor: a lock
    network: ThrottlePolicy  # per IPv4 address or IPv6 /64: a lock
    session: SessionPolicy
    mfa_for_staff: bool


@dataclass(frozen=True)
class Signed:
    """A new session: the secret for the cookie (shown once, stored hashed) and its stage."""

    token: str
    stage: Stage
    user: StaffUser


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _actor(username: str) -> str:
    """Who a failed sign-in claimed to be, only if it could be a username (no free text)."""
    name = (username or "").strip().lower()
    return name if USERNAME.match(name) else "(not a username)"


def sign_in(
    *,
    uow: UnitOfWork,
    username: str,
    password: str,
    client_addr: str | None,
    policy: SignInPolicy,
    now: datetime,
) -> Signed:
    """Check the password under the throttle and open a session (fully, or pending a factor).

    Three short transactions: the throttle and the stored hash are read, the password is
    hashed outside any transaction (on SQLite the write lock would otherwise be held for a
    quarter of a second, stalling every other writer), then the outcome is written.
    """
    attempt = _attempt(policy, Factor.PASSWORD, _actor(username), client_addr)
    found = _read_credentials(uow, attempt, username=username, now=now)
    try:
        user = password_matches(found, password)
    except InvalidCredentials:
        with uow:
            locked = record_failure(uow, attempt, detail="wrong username or password", now=now)
            uow.commit()
        if locked is not None:
            raise LoginLocked(locked) from None
        raise
    rehash = found is not None and needs_rehash(found[1])
    with uow:
        if rehash:
            uow.staff.update(user.id, password_hash=hash_password(password))
        succeeded(uow, attempt)  # the password's delay only: never the code's lock
        stage = Stage.OK
        if user.needs_second_factor(for_staff=policy.mfa_for_staff):
            stage = Stage.MFA if user.totp_enabled else Stage.ENROL
        token = _open(uow, user=user, stage=stage, client_addr=client_addr, now=now)
        action = "login" if stage is Stage.OK else "login_password_ok"
        detail = (
            "signed in" if stage is Stage.OK else f"password right; second factor ({stage}) next"
        )
        audit.record(
            uow, actor=user.username, action=action, detail=detail, now=now, client_addr=client_addr
        )
        uow.commit()
    return Signed(token=token, stage=stage, user=user)


def _read_credentials(
    uow: UnitOfWork, attempt: Attempt, *, username: str, now: datetime
) -> tuple[StaffUser, str] | None:
    """Refuse a held account or network (the refusal counted), else the stored hash."""
    with uow:
        try:
            refuse_if_locked(uow, attempt, now=now)
        except LoginLocked:
            uow.commit()
            raise
        return stored_credentials(uow, username=username)


def _open(
    uow: UnitOfWork, *, user: StaffUser, stage: Stage, client_addr: str | None, now: datetime
) -> str:
    token = secrets.token_urlsafe(32)
    uow.sessions.add(
        token_hash=_hash(token), user_id=user.id, stage=stage, client_addr=client_addr, now=now
    )
    if stage is Stage.OK:
        uow.staff.update(user.id, last_login_at=now)
    return token


def resolve(
    *, uow: UnitOfWork, token: str, policy: SessionPolicy, now: datetime, touch: bool = True
) -> tuple[StaffSession, StaffUser] | None:
    """The live session behind a cookie and its active user; an expired one is ended here.

    `touch=False` for a request the page makes by itself (the inbox count polled every
    20 s): it reads the session but does not count as the person's activity, so idle
    logoff still happens on a page left open.
    """
    with uow:
        session = uow.sessions.by_token_hash(_hash(token))
        if session is None:
            return None
        user = uow.staff.get(session.user_id)
        reason = expiry_reason(session, now=now, policy=policy)
        if reason is None and (user is None or not user.active):
            reason = "disabled"
        if reason is not None:
            if session.ended_at is None:
                uow.sessions.end(session.id, reason=reason, now=now)
                if user is not None:
                    audit.record(
                        uow,
                        actor=user.username,
                        action="session_ended",
                        detail=reason,
                        now=now,
                        client_addr=session.client_addr,
                    )
                uow.commit()
            return None
        if touch and now - session.last_seen_at >= _TOUCH_EVERY:
            uow.sessions.update(session.id, last_seen_at=now)
            uow.commit()
    assert user is not None
    return session, user


def sign_out(
    *,
    uow: UnitOfWork,
    session: StaffSession,
    user: StaffUser,
    client_addr: str | None,
    now: datetime,
) -> None:
    """Sign out everywhere: every session of this user ends (a shared tablet is left safe too)."""
    with uow:
        ended = uow.sessions.end_all_for(user.id, reason="logout", now=now)
        audit.record(
            uow,
            actor=user.username,
            action="logout",
            detail=f"{ended} session(s) ended",
            now=now,
            client_addr=client_addr,
        )
        uow.commit()


def second_step(
    *,
    uow: UnitOfWork,
    session: StaffSession,
    user: StaffUser,
    code: str,
    client_addr: str | None,
    policy: SignInPolicy,
    now: datetime,
) -> str:
    """Finish a sign-in with a TOTP or recovery code: a new, full session replaces the pending one."""
    attempt = _attempt(policy, Factor.CODE, user.username, client_addr)
    with uow:
        try:
            refuse_if_locked(uow, attempt, now=now)
        except LoginLocked:
            uow.sessions.end(session.id, reason="locked", now=now)
            uow.commit()
            raise
        used = second_factor.check_code(uow, user_id=user.id, code=code, now=now)
        if used in (None, "used"):
            locked = record_failure(uow, attempt, detail="wrong second-factor code", now=now)
            if locked is not None:
                uow.sessions.end(session.id, reason="locked", now=now)
            uow.commit()
            if locked is not None:
                raise LoginLocked(locked)
            if used == "used":  # right, but taken already: say so, so the person waits for the next
                raise InvalidCredentials(
                    "that code was used already; wait for the next code your app shows"
                    " (a new one every 30 seconds) and enter it"
                )
            raise InvalidCredentials(
                "that code is not right (or is a recovery code used already);"
                " check it and the phone's clock"
            )
        token = promote(uow, session=session, user=user, client_addr=client_addr, now=now)
        audit.record(
            uow,
            actor=user.username,
            action="login",
            detail=f"signed in with a {used} code",
            now=now,
            client_addr=client_addr,
        )
        uow.commit()
    return token


def promote(
    uow: UnitOfWork,
    *,
    session: StaffSession,
    user: StaffUser,
    client_addr: str | None,
    now: datetime,
) -> str:
    """Inside the caller's transaction: end a pending session and open a full one (new id)."""
    uow.sessions.end(session.id, reason="second_factor_done", now=now)
    uow.throttle.clear(f"{Factor.CODE.value}:{user.username}")
    return _open(uow, user=user, stage=Stage.OK, client_addr=client_addr, now=now)


def confirm_password(
    *,
    uow: UnitOfWork,
    user: StaffUser,
    password: str,
    client_addr: str | None,
    policy: SignInPolicy,
    now: datetime,
) -> None:
    """Ask a signed-in user for their password again, under the same throttle as sign-in."""
    attempt = _attempt(policy, Factor.PASSWORD, user.username, client_addr)
    found = _read_credentials(uow, attempt, username=user.username, now=now)
    try:
        password_matches(found, password)
    except InvalidCredentials:
        with uow:
            detail = "wrong current password (password change)"
            locked = record_failure(uow, attempt, detail=detail, now=now)
            uow.commit()
        if locked is not None:
            raise LoginLocked(locked) from None
        raise


def _attempt(policy: SignInPolicy, factor: Factor, actor: str, client_addr: str | None) -> Attempt:
    account = policy.password if factor is Factor.PASSWORD else policy.code
    return Attempt(actor, client_addr, factor, account, policy.network)
