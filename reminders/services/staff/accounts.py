"""Staff accounts: create, change, sign in, verify; passwords hashed with argon2."""

from __future__ import annotations

import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError

from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.domain.staff.accounts import (
    InvalidAccount,
    InvalidCredentials,
    Role,
    StaffUser,
    check_password,
    check_username,
    shown_name,
)
from reminders.domain.staff.limits import ACTOR_MAX, FULL_NAME_MAX, check_length
from reminders.services import audit

_hasher = PasswordHasher()
# Verified when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_staff_user(
    *,
    uow: UnitOfWork,
    username: str,
    password: str,
    now: datetime,
    full_name: str = "",
    role: Role = Role.STAFF,
    by: str = "cli",
) -> StaffUser:
    """Create an active account; the username must be new."""
    name = check_username(username)
    check_password(password, username=username)
    check_length(full_name.strip(), field="full_name", limit=FULL_NAME_MAX)
    check_length(by, field="by", limit=ACTOR_MAX, label="name of who acts")
    with uow:
        if uow.staff.by_username(name) is not None:
            raise InvalidAccount(f"there is already a user {name!r}", field="username")
        try:
            user_id = uow.staff.add(
                username=name,
                full_name=full_name.strip() or name,
                role=role,
                password_hash=hash_password(password),
                now=now,
            )
        except IntegrityError:
            raise InvalidAccount(f"there is already a user {name!r}", field="username") from None
        audit.record(uow, actor=by, action="staff_created", detail=f"{name} ({role})", now=now)
        user = uow.staff.get(user_id)
        uow.commit()
    assert user is not None
    return user


def set_password(
    *,
    uow: UnitOfWork,
    username: str,
    password: str,
    by: str,
    now: datetime,
    client_addr: str | None = None,
) -> None:
    """Replace a user's password (and reactivate and unlock the account); it ends their sessions."""
    check_password(password, username=username)
    with uow:
        user = _existing(uow, username)
        uow.staff.update(user.id, password_hash=hash_password(password), active=True)
        for key in throttle_keys(user.username):
            uow.throttle.clear(key)
        ended = uow.sessions.end_all_for(user.id, reason="password_changed", now=now)
        audit.record(
            uow,
            actor=by,
            action="password_set",
            detail=f"{user.username}; {ended} session(s) ended",
            now=now,
            client_addr=client_addr,
        )
        uow.commit()


def set_active(
    *,
    uow: UnitOfWork,
    username: str,
    active: bool,
    by: str,
    now: datetime,
    client_addr: str | None = None,
) -> StaffUser:
    """Disable an account (ending its sessions at once) or enable it again (and unlock it)."""
    with uow:
        user = _existing(uow, username)
        if not active and user.is_admin:
            _keep_an_admin(uow, user)
        uow.staff.update(user.id, active=active)
        detail = user.username
        if active:
            for key in throttle_keys(user.username):
                uow.throttle.clear(key)
        else:
            ended = uow.sessions.end_all_for(user.id, reason="disabled", now=now)
            detail += f"; {ended} session(s) ended"
        action = "staff_enabled" if active else "staff_disabled"
        audit.record(uow, actor=by, action=action, detail=detail, now=now, client_addr=client_addr)
        changed = uow.staff.get(user.id)
        uow.commit()
    assert changed is not None
    return changed


def set_role(
    *,
    uow: UnitOfWork,
    username: str,
    role: Role,
    by: str,
    now: datetime,
    client_addr: str | None = None,
) -> StaffUser:
    """Change a user's role; their sessions end so the next sign-in meets the new role's rules."""
    with uow:
        user = _existing(uow, username)
        if user.role is role:
            return user
        if user.is_admin:
            _keep_an_admin(uow, user)
        uow.staff.update(user.id, role=role.value)
        ended = uow.sessions.end_all_for(user.id, reason="role_changed", now=now)
        audit.record(
            uow,
            actor=by,
            action="role_set",
            detail=f"{user.username}: {user.role.value} -> {role.value}; {ended} session(s) ended",
            now=now,
            client_addr=client_addr,
        )
        changed = uow.staff.get(user.id)
        uow.commit()
    assert changed is not None
    return changed


def _existing(uow: UnitOfWork, username: str) -> StaffUser:
    found = uow.staff.by_username((username or "").strip().lower())
    if found is None:
        raise InvalidAccount(f"there is no user {shown_name(username)}", field="username")
    return found[0]


def _keep_an_admin(uow: UnitOfWork, user: StaffUser) -> None:
    """Refuse to remove the last active admin: nobody could manage accounts afterwards."""
    others = [u for u in uow.staff.all() if u.is_admin and u.active and u.id != user.id]
    if not others:
        raise InvalidAccount(
            f"{user.username} is the only active admin; make another admin first", field="username"
        )


def throttle_keys(username: str) -> tuple[str, str]:
    """The sign-in throttle's keys of an account: its password delay and its code lock."""
    return f"account:{username}", f"mfa:{username}"


def authenticate(*, uow: UnitOfWork, username: str, password: str, now: datetime) -> StaffUser:
    """Return the active user with this username and password, or raise InvalidCredentials.

    Only the check: throttling, sessions and the audit of sign-ins are services/staff/sign_in.py.
    """
    with uow:
        user = verify_credentials(uow, username=username, password=password)
        uow.commit()
        return user


def verify_credentials(uow: UnitOfWork, *, username: str, password: str) -> StaffUser:
    """Inside the caller's transaction: the user, or InvalidCredentials (never saying which half)."""
    found = uow.staff.by_username((username or "").strip().lower())
    user = password_matches(found, password)
    if found is not None and _hasher.check_needs_rehash(found[1]):
        uow.staff.update(user.id, password_hash=hash_password(password))
    return user


def stored_credentials(uow: UnitOfWork, *, username: str) -> tuple[StaffUser, str] | None:
    """Inside the caller's transaction: the user and their password's hash, if the name exists."""
    return uow.staff.by_username((username or "").strip().lower())


def password_matches(found: tuple[StaffUser, str] | None, password: str) -> StaffUser:
    """The active user if the password matches their hash, else InvalidCredentials.

    Outside any transaction: hashing takes a quarter of a second, and SQLite's one write
    lock must not be held meanwhile. An unknown name costs as long as a wrong password.
    """
    wrong = InvalidCredentials("the username or password is not right")
    if found is None:
        _verify(_DUMMY_HASH, password)
        raise wrong
    user, stored = found
    if not _verify(stored, password) or not user.active:
        raise wrong
    return user


def needs_rehash(stored: str) -> bool:
    """The hash was made with older argon2 parameters: hash the password again."""
    return _hasher.check_needs_rehash(stored)


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def list_users(*, uow: UnitOfWork) -> list[StaffUser]:
    with uow:
        return uow.staff.all()
