"""API tokens for EHRs and scripts: create (shown once), revoke, look up; stored as SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.domain.staff.accounts import (
    ALL_SCOPES,
    ApiToken,
    InvalidAccount,
    Scope,
    check_username,
    scopes_text,
    shown_name,
)
from reminders.services import audit

TOKEN_PREFIX = "rr_"


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_api_token(
    *,
    uow: UnitOfWork,
    name: str,
    by: str,
    now: datetime,
    scopes: frozenset[Scope] = ALL_SCOPES,
    expires_at: datetime | None = None,
    client_addr: str | None = None,
) -> tuple[ApiToken, str]:
    """Create a token for an EHR or script; the secret is returned once and stored hashed."""
    try:  # a token's name follows the rules of a username, but it is the name that is wrong
        label = check_username(name)
    except InvalidAccount as exc:
        message = exc.message.replace("is not a username", "is not a token name")
        raise InvalidAccount(message, field="name") from None
    if not scopes:
        raise InvalidAccount("a token needs at least one scope", field="scope")
    if expires_at is not None and expires_at <= now:
        raise InvalidAccount("the expiry must be in the future", field="expires")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with uow:
        if uow.tokens.by_name(label) is not None:
            raise InvalidAccount(f"there is already a token named {label!r}", field="name")
        uow.tokens.add(
            name=label,
            token_hash=token_hash(raw),
            prefix=raw[:8],
            created_by=by,
            now=now,
            scopes=scopes,
            expires_at=expires_at,
        )
        until = f", expires {expires_at:%Y-%m-%d %H:%M} UTC" if expires_at else ""
        detail = f"{label} ({scopes_text(scopes)}{until})"
        audit.record(
            uow,
            actor=by,
            action="token_created",
            detail=detail,
            now=now,
            client_addr=client_addr,
        )
        token = uow.tokens.by_name(label)
        uow.commit()
    assert token is not None
    return token, raw


def revoke_api_token(
    *, uow: UnitOfWork, name: str, by: str, now: datetime, client_addr: str | None = None
) -> bool:
    """Revoke a token at once; requests carrying it are refused from now on.

    False when it was revoked already: nothing changes (a second click, a second admin).
    """
    with uow:
        token = uow.tokens.by_name((name or "").strip().lower())
        if token is None:
            raise InvalidAccount(f"there is no token named {shown_name(name)}", field="name")
        if not uow.tokens.revoke(token.id, now):
            return False
        audit.record(
            uow,
            actor=by,
            action="token_revoked",
            detail=token.name,
            now=now,
            client_addr=client_addr,
        )
        uow.commit()
    return True


def list_tokens(*, uow: UnitOfWork) -> list[ApiToken]:
    with uow:
        return uow.tokens.all()


def token_for(*, uow: UnitOfWork, raw: str, now: datetime) -> ApiToken | None:
    """Return the live (not revoked, not expired) token matching a bearer secret, or None."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    with uow:
        token = uow.tokens.by_hash(token_hash(raw))
        if token is None or not token.live(now):
            return None
        # Record use at most once a minute: a busy EHR should not turn reads into writes.
        if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
            uow.tokens.update(token.id, last_used_at=now)
            uow.commit()
        return token
