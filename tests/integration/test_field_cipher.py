"""TOTP secrets encrypted at rest (adapters/field_cipher.py): new ones encrypted, old plain
ones still working and encrypted at their next use, keys rotated, a lost key said clearly."""

from __future__ import annotations

import logging

import pyotp
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, update
from webtools import add_staff, client, csrf, login

from reminders.adapters.db.orm import staff_users
from reminders.adapters.field_cipher import derived_key
from reminders.bootstrap import bootstrap
from reminders.domain.staff.accounts import Role

PLAIN = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # a secret as the app stored it before encryption


def stored(engine) -> str:
    with engine.connect() as conn:
        return conn.scalar(select(staff_users.c.totp_secret).where(staff_users.c.id == 1))


def second_step(c, secret: str) -> int:
    """Sign dr.lee in with a code from the authenticator app; the status of the code step."""
    container = c.app.state.container
    container.clock.advance(seconds=30)  # a fresh step: a code is good once
    page = c.get("/staff/login")
    r = c.post(
        "/staff/login",
        data={
            "username": "dr.lee",
            "password": "correct horse battery",
            "csrf_token": csrf(page.text),
        },
        follow_redirects=False,
    )
    assert r.headers["location"] == "/staff/login/code", r.headers
    form = c.get("/staff/login/code")
    code = pyotp.TOTP(secret).at(container.clock())
    done = c.post(
        "/staff/login/code",
        data={"code": code, "csrf_token": csrf(form.text)},
        follow_redirects=False,
    )
    return done.status_code


def with_keys(settings, engine, clock, **update):
    return bootstrap(settings.model_copy(update=update), engine=engine, clock=clock)


def test_a_new_secret_is_stored_encrypted_and_works(container, engine):
    add_staff(container, "dr.lee", Role.ADMIN)
    login(client(container), "dr.lee")
    with container.uow() as uow:
        secret = uow.staff.totp_secret(1)
    assert secret and len(secret) == 32
    at_rest = stored(engine)
    assert at_rest.startswith("fernet:") and secret not in at_rest
    assert second_step(client(container), secret) == 303


def _plain_secret(container, engine) -> None:
    """dr.lee with a factor set up before this change: the secret in clear in the row."""
    add_staff(container, "dr.lee", Role.ADMIN)
    with engine.begin() as conn:
        conn.execute(
            update(staff_users)
            .where(staff_users.c.id == 1)
            .values(totp_secret=PLAIN, totp_enabled_at=container.clock())
        )


def test_an_old_plain_secret_keeps_working_and_is_encrypted_at_its_next_use(container, engine):
    _plain_secret(container, engine)
    c = client(container)
    assert second_step(c, PLAIN) == 303  # no data loss: the same authenticator entry works
    assert stored(engine).startswith("fernet:") and PLAIN not in stored(engine)
    assert second_step(client(container), PLAIN) == 303  # and still works, encrypted


def test_a_wrong_code_leaves_a_plain_secret_as_it_was(container, engine):
    _plain_secret(container, engine)
    c = client(container)
    page = c.get("/staff/login")
    c.post(
        "/staff/login",
        data={
            "username": "dr.lee",
            "password": "correct horse battery",
            "csrf_token": csrf(page.text),
        },
    )
    form = c.get("/staff/login/code")
    r = c.post("/staff/login/code", data={"code": "12345x", "csrf_token": csrf(form.text)})
    assert r.status_code == 401 and stored(engine) == PLAIN


def test_rotation_new_key_first_old_key_kept(container, settings, engine, clock):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    before = with_keys(settings, engine, clock, field_key=old)
    add_staff(before, "dr.lee", Role.ADMIN)
    login(client(before), "dr.lee")
    with before.uow() as uow:
        secret = uow.staff.totp_secret(1)
    under_old = stored(engine)
    rotated = with_keys(settings, engine, clock, field_key=f"{new},{old}")
    assert second_step(client(rotated), secret) == 303
    assert stored(engine) != under_old  # rewritten under the new key at this use
    only_new = with_keys(settings, engine, clock, field_key=new)
    assert second_step(client(only_new), secret) == 303  # the old key can go now


def test_a_changed_session_key_without_a_field_key_is_said_in_the_log(
    container, settings, engine, clock, caplog
):
    """Derived keys follow REMINDERS_SECRET_KEY: change it and the admin sets the factor up again."""
    add_staff(container, "dr.lee", Role.ADMIN)
    login(client(container), "dr.lee")
    with container.uow() as uow:
        secret = uow.staff.totp_secret(1)
    same = with_keys(settings, engine, clock, secret_key=settings.secret_key)
    assert second_step(client(same), secret) == 303
    changed = with_keys(settings, engine, clock, secret_key="another-secret-key-" + "x" * 20)
    with caplog.at_level(logging.ERROR):
        assert second_step(client(changed), secret) == 401
    assert "opens with none of the configured keys" in caplog.text and "mfa-reset" in caplog.text
    assert secret not in caplog.text


def test_the_derived_key_depends_on_the_session_key():
    assert derived_key("a" * 40) == derived_key("a" * 40) != derived_key("b" * 40)
    Fernet(derived_key("a" * 40))  # a valid Fernet key


def test_a_malformed_field_key_stops_the_start(settings, engine, clock):
    with pytest.raises(ValueError, match="REMINDERS_FIELD_KEY must be Fernet keys"):
        with_keys(settings, engine, clock, field_key="not-a-key")
