"""TOTP second factor (RFC 6238, pyotp): enrolment with a QR shown once, codes, recovery codes."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import pyotp
import segno

from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.domain.staff.accounts import (
    InvalidAccount,
    InvalidCredentials,
    StaffUser,
    shown_name,
)
from reminders.services import audit

RECOVERY_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread from paper


def _code_hash(code: str) -> str:
    return hashlib.sha256(_normal(code).encode()).hexdigest()


def _normal(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def start_enrolment(*, uow: UnitOfWork, user: StaffUser, issuer: str) -> tuple[str, str]:
    """A fresh secret for a user without a factor: (secret for typing in, QR as SVG markup).

    Each call replaces the secret not yet confirmed, so a QR seen earlier is useless:
    the QR is shown once, on this page, and is never stored.
    """
    if user.totp_enabled:
        raise InvalidAccount("a second factor is set up already; an admin can reset it")
    secret = pyotp.random_base32()
    with uow:
        uow.staff.update(user.id, totp_secret=secret, totp_enabled_at=None, totp_last_step=None)
        uow.commit()
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=issuer)
    svg = segno.make(uri, error="m").svg_inline(scale=4, dark="#111", light="#fff")
    return secret, svg


def confirm_enrolment(
    *, uow: UnitOfWork, user: StaffUser, code: str, now: datetime, client_addr: str | None = None
) -> list[str]:
    """Turn the factor on once a code from the app matches; return recovery codes (shown once)."""
    with uow:
        secret = uow.staff.totp_secret(user.id)
        if not secret or user.totp_enabled:
            raise InvalidCredentials("start again: open the set-up page for a new QR code")
        step = _matching_step(secret, code, now=now, last_step=None)
        if step is None:
            raise InvalidCredentials(
                "that code is not right; check the phone's clock and try again"
            )
        uow.staff.update(user.id, totp_enabled_at=now, totp_last_step=step)
        codes = _new_recovery_codes(uow, user_id=user.id, now=now)
        audit.record(
            uow,
            actor=user.username,
            action="mfa_enrolled",
            detail="authenticator app set up; recovery codes issued",
            now=now,
            client_addr=client_addr,
        )
        uow.commit()
    return codes


def check_code(uow: UnitOfWork, *, user_id: int, code: str, now: datetime) -> str | None:
    """Inside the caller's transaction: "totp" or "recovery" if the code is good, "used" if
    it is a right code of a step already taken (a replay, or a second sign-in within the
    same 30 s), else None. Only "totp" and "recovery" sign in."""
    secret = uow.staff.totp_secret(user_id)
    if not secret:
        return None
    found = uow.staff.last_totp_step(user_id)
    step = _matching_step(secret, code, now=now, last_step=found)
    if step is not None:
        if not uow.staff.claim_totp_step(user_id, step):
            return "used"  # another sign-in took this code a moment ago
        uow.staff.rewrap_totp_secret(user_id)  # stored in clear before: encrypted from now on
        return "totp"
    if found is not None and _matching_step(secret, code, now=now, last_step=None) is not None:
        return "used"
    normal = _normal(code)
    if len(normal) >= 10 and uow.staff.use_recovery_code(user_id, _code_hash(normal), now=now):
        return "recovery"
    return None


def _matching_step(secret: str, code: str, *, now: datetime, last_step: int | None) -> int | None:
    """The 30-second step the code belongs to (this one or a neighbour, for clock drift).

    A step at or before the last accepted one is refused, so a code seen over a shoulder
    cannot be used again (RFC 6238 section 5.2).
    """
    digits = _normal(code)
    if len(digits) != 6 or not digits.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // totp.interval
    for step in (current, current - 1, current + 1):
        if last_step is not None and step <= last_step:
            continue
        if secrets.compare_digest(totp.generate_otp(step), digits):
            return step
    return None


def _new_recovery_codes(uow: UnitOfWork, *, user_id: int, now: datetime) -> list[str]:
    codes = [
        "-".join("".join(secrets.choice(_ALPHABET) for _ in range(5)) for _ in range(2))
        for _ in range(RECOVERY_CODES)
    ]
    uow.staff.replace_recovery_codes(user_id, [_code_hash(c) for c in codes], now=now)
    return codes


def reset(
    *, uow: UnitOfWork, username: str, by: str, now: datetime, client_addr: str | None = None
) -> None:
    """Remove a user's factor (a lost phone): their sessions end, they set it up again at sign-in."""
    with uow:
        found = uow.staff.by_username((username or "").strip().lower())
        if found is None:
            raise InvalidAccount(f"there is no user {shown_name(username)}", field="username")
        user = found[0]
        uow.staff.update(user.id, totp_secret=None, totp_enabled_at=None, totp_last_step=None)
        uow.staff.replace_recovery_codes(user.id, [], now=now)
        ended = uow.sessions.end_all_for(user.id, reason="mfa_reset", now=now)
        audit.record(
            uow,
            actor=by,
            action="mfa_reset",
            detail=f"{user.username}; {ended} session(s) ended",
            now=now,
            client_addr=client_addr,
        )
        uow.commit()
