"""Staff users and API tokens as stored: read back whole, found by name or hash, unique."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from reminders.adapters.db.staff.accounts_repository import ApiTokenRepository, StaffUserRepository
from reminders.domain.staff.accounts import Role

NOW = datetime(2026, 5, 4, 17, 0, tzinfo=UTC)


def test_a_staff_user_is_read_back_by_id_and_username_with_the_hash(engine):
    with engine.begin() as conn:
        users = StaffUserRepository(conn)
        kim = users.add(
            username="nurse.kim", full_name="Kim Park", role=Role.ADMIN, password_hash="h1", now=NOW
        )
        users.add(username="amy", full_name="Amy Ng", role=Role.STAFF, password_hash="h2", now=NOW)
        user = users.get(kim)
        assert user is not None
        assert (user.username, user.full_name, user.role, user.active) == (
            "nurse.kim",
            "Kim Park",
            Role.ADMIN,
            True,
        )
        assert (user.created_at, user.last_login_at, user.is_admin) == (NOW, None, True)
        found = users.by_username("nurse.kim")
        assert found is not None and found == (user, "h1")
        assert users.by_username("Nurse.Kim") is None  # usernames are exact
        assert users.get(kim + 100) is None
        assert [u.username for u in users.all()] == ["amy", "nurse.kim"]
        users.update(kim, active=False, last_login_at=NOW + timedelta(hours=1))
        changed = users.get(kim)
        assert changed is not None
        assert (changed.active, changed.last_login_at) == (False, NOW + timedelta(hours=1))


def test_a_username_is_taken_once(engine):
    with pytest.raises(IntegrityError), engine.begin() as conn:
        users = StaffUserRepository(conn)
        for _ in range(2):
            users.add(username="amy", full_name="Amy", role=Role.STAFF, password_hash="h", now=NOW)


def test_a_token_is_found_by_its_hash_or_name_never_by_its_prefix(engine):
    with engine.begin() as conn:
        tokens = ApiTokenRepository(conn)
        epic = tokens.add(
            name="epic", token_hash="a" * 64, prefix="rr_abcd", created_by="nurse.kim", now=NOW
        )
        tokens.add(name="cerner", token_hash="b" * 64, prefix="rr_efgh", created_by="x", now=NOW)
        token = tokens.by_hash("a" * 64)
        assert token is not None
        assert (token.id, token.name, token.prefix, token.created_by, token.actor) == (
            epic,
            "epic",
            "rr_abcd",
            "nurse.kim",
            "token:epic",
        )
        assert (token.created_at, token.last_used_at, token.revoked_at) == (NOW, None, None)
        assert tokens.by_name("epic") == token
        assert tokens.by_hash("rr_abcd") is None
        assert tokens.by_name("nobody") is None
        assert [t.name for t in tokens.all()] == ["cerner", "epic"]
        assert tokens.revoke(epic, NOW + timedelta(days=1)) is True
        assert tokens.revoke(epic, NOW + timedelta(days=2)) is False  # once: the first stays
        revoked = tokens.by_name("epic")
        assert revoked is not None and revoked.revoked_at == NOW + timedelta(days=1)


def test_a_token_name_is_taken_once(engine):
    with pytest.raises(IntegrityError), engine.begin() as conn:
        tokens = ApiTokenRepository(conn)
        tokens.add(name="epic", token_hash="a" * 64, prefix="p", created_by="x", now=NOW)
        tokens.add(name="epic", token_hash="c" * 64, prefix="p", created_by="x", now=NOW)
