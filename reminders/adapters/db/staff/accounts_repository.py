"""Repositories for staff users (with their recovery codes), API tokens and CSV import runs."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, or_, select, update

from reminders.adapters.db.orm import api_tokens, recovery_codes, staff_users
from reminders.adapters.field_cipher import PREFIX, FieldCipher, UnreadableField
from reminders.domain.staff.accounts import (
    ALL_SCOPES,
    ApiToken,
    Role,
    Scope,
    StaffUser,
    parse_scopes,
    scopes_text,
)

log = logging.getLogger(__name__)


class StaffUserRepository:
    """Staff users; their TOTP secret is written encrypted and read back in clear."""

    def __init__(self, conn: Connection, cipher: FieldCipher | None = None) -> None:
        self.conn = conn
        self.cipher = cipher

    def add(
        self, *, username: str, full_name: str, role: Role, password_hash: str, now: datetime
    ) -> int:
        result = self.conn.execute(
            insert(staff_users).values(
                username=username,
                full_name=full_name,
                role=role.value,
                password_hash=password_hash,
                active=True,
                created_at=now,
            )
        )
        return _new_id(result)

    def get(self, user_id: int) -> StaffUser | None:
        row = self.conn.execute(select(staff_users).where(staff_users.c.id == user_id)).first()
        return _user(row) if row else None

    def by_username(self, username: str) -> tuple[StaffUser, str] | None:
        """Return the user and the stored password hash."""
        row = self.conn.execute(
            select(staff_users).where(staff_users.c.username == username)
        ).first()
        return (_user(row), row.password_hash) if row else None

    def all(self) -> list[StaffUser]:
        rows = self.conn.execute(select(staff_users).order_by(staff_users.c.username))
        return [_user(r) for r in rows]

    def update(self, user_id: int, **values: Any) -> None:
        if values.get("totp_secret") is not None:
            values["totp_secret"] = self._cipher().encrypt(values["totp_secret"])
        self.conn.execute(update(staff_users).where(staff_users.c.id == user_id).values(**values))

    def totp_secret(self, user_id: int) -> str | None:
        """The secret in clear; None if there is none, or if no configured key opens it."""
        return self._open_secret(user_id)[0]

    def rewrap_totp_secret(self, user_id: int) -> bool:
        """Encrypt a secret stored in clear (or under an older key) with the current key."""
        plain, stale = self._open_secret(user_id)
        if plain is None or not stale:
            return False
        self.update(user_id, totp_secret=plain)
        return True

    def _open_secret(self, user_id: int) -> tuple[str | None, bool]:
        stored = self.conn.scalar(
            select(staff_users.c.totp_secret).where(staff_users.c.id == user_id)
        )
        if not stored:
            return None, False
        if self.cipher is None and not stored.startswith(PREFIX):
            return stored, False  # no key here to rewrite it with
        try:
            return self._cipher().decrypt(stored)
        except UnreadableField as exc:
            log.error(
                "staff user %s: %s; `reminders staff mfa-reset` lets them set it up again",
                user_id,
                exc,
            )
            return None, False

    def _cipher(self) -> FieldCipher:
        if self.cipher is None:
            raise RuntimeError("no field cipher: build the unit of work from the container")
        return self.cipher

    def last_totp_step(self, user_id: int) -> int | None:
        """The last TOTP step accepted for this user (a code is good once)."""
        return self.conn.scalar(
            select(staff_users.c.totp_last_step).where(staff_users.c.id == user_id)
        )

    def claim_totp_step(self, user_id: int, step: int) -> bool:
        """Take a TOTP step for a sign-in, once: False if this or a later step was taken.

        One conditional UPDATE: on PostgreSQL a second transaction racing for the same
        step waits for the first's row lock, then finds the condition false; on SQLite
        writers take turns already. So of four sessions sending one code, one wins.
        """
        column = staff_users.c.totp_last_step
        done = self.conn.execute(
            update(staff_users)
            .where(staff_users.c.id == user_id, or_(column.is_(None), column < step))
            .values(totp_last_step=step)
        )
        return done.rowcount == 1

    def replace_recovery_codes(self, user_id: int, hashes: list[str], *, now: datetime) -> None:
        """A new set replaces the old: codes shown before stop working."""
        self.conn.execute(
            update(recovery_codes)
            .where(recovery_codes.c.user_id == user_id, recovery_codes.c.used_at.is_(None))
            .values(used_at=now)
        )
        if hashes:
            self.conn.execute(
                insert(recovery_codes),
                [{"user_id": user_id, "code_hash": h, "created_at": now} for h in hashes],
            )

    def use_recovery_code(self, user_id: int, code_hash: str, *, now: datetime) -> bool:
        """Spend an unused code; False if there is none (wrong, or used already)."""
        done = self.conn.execute(
            update(recovery_codes)
            .where(
                recovery_codes.c.user_id == user_id,
                recovery_codes.c.code_hash == code_hash,
                recovery_codes.c.used_at.is_(None),
            )
            .values(used_at=now)
        )
        return done.rowcount == 1

    def recovery_codes_left(self, user_id: int) -> int:
        return int(
            self.conn.scalar(
                select(func.count())
                .select_from(recovery_codes)
                .where(recovery_codes.c.user_id == user_id, recovery_codes.c.used_at.is_(None))
            )
            or 0
        )


class ApiTokenRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self,
        *,
        name: str,
        token_hash: str,
        prefix: str,
        created_by: str,
        now: datetime,
        scopes: frozenset[Scope] = ALL_SCOPES,
        expires_at: datetime | None = None,
    ) -> int:
        result = self.conn.execute(
            insert(api_tokens).values(
                name=name,
                token_hash=token_hash,
                prefix=prefix,
                created_by=created_by,
                created_at=now,
                scopes=scopes_text(scopes),
                expires_at=expires_at,
            )
        )
        return _new_id(result)

    def by_hash(self, token_hash: str) -> ApiToken | None:
        row = self.conn.execute(
            select(api_tokens).where(api_tokens.c.token_hash == token_hash)
        ).first()
        return _token(row) if row else None

    def by_name(self, name: str) -> ApiToken | None:
        row = self.conn.execute(select(api_tokens).where(api_tokens.c.name == name)).first()
        return _token(row) if row else None

    def all(self) -> list[ApiToken]:
        return [
            _token(r) for r in self.conn.execute(select(api_tokens).order_by(api_tokens.c.name))
        ]

    def update(self, token_id: int, **values: Any) -> None:
        self.conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(**values))

    def revoke(self, token_id: int, now: datetime) -> bool:
        """Revoke once: False when it already was (two admins, or one double click, at once)."""
        result = self.conn.execute(
            update(api_tokens)
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return bool(result.rowcount)


def _new_id(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _user(row: Any) -> StaffUser:
    return StaffUser(
        id=row.id,
        username=row.username,
        full_name=row.full_name,
        role=Role(row.role),
        active=row.active,
        created_at=row.created_at,
        last_login_at=row.last_login_at,
        totp_enabled=row.totp_enabled_at is not None,
    )


def _token(row: Any) -> ApiToken:
    return ApiToken(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        created_by=row.created_by,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
        scopes=parse_scopes(row.scopes),
        expires_at=row.expires_at,
    )
