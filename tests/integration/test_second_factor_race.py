"""One TOTP code sent by four sessions at once signs in one (findings 8 and 14 of issue 22),
and a password is hashed with no transaction open (SQLite's one write lock stays free)."""

from __future__ import annotations

import contextlib
import threading
from datetime import timedelta

import pyotp
import pytest
from argon2 import PasswordHasher
from sqlalchemy import text
from webtools import PASSWORD, add_staff, client, login

from reminders.domain.staff.accounts import InvalidCredentials, LoginLocked, Role
from reminders.entrypoints.web import staff_session
from reminders.services.staff import second_factor, sign_in


def test_one_code_from_four_sessions_at_once_signs_in_one(container, monkeypatch):
    add_staff(container, "dr.lee", Role.ADMIN)
    login(client(container), "dr.lee")
    container.clock.advance(seconds=60)  # past the step the set-up took
    policy = staff_session.policy(container.settings)
    pending = [
        sign_in.sign_in(
            uow=container.uow(),
            username="dr.lee",
            password=PASSWORD,
            client_addr=f"192.0.2.{i + 1}",
            policy=policy,
            now=container.clock(),
        )
        for i in range(4)
    ]
    sessions = []
    for p in pending:
        found = sign_in.resolve(
            uow=container.uow(), token=p.token, policy=policy.session, now=container.clock()
        )
        assert found is not None
        sessions.append(found)
    with container.uow() as uow:
        secret = uow.staff.totp_secret(sessions[0][1].id)
    code = pyotp.TOTP(secret).at(container.clock())
    # Every session has read the last step before any writes it: the race the finding saw.
    barrier = threading.Barrier(4, timeout=2)
    real = second_factor.check_code

    def in_step(uow, **kw):
        uow.staff.last_totp_step(kw["user_id"])
        # SQLite: writers already take turns, so they cannot all meet here.
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return real(uow, **kw)

    monkeypatch.setattr(second_factor, "check_code", in_step)
    won, lost = [], []

    def go(found):
        session, user = found
        try:
            won.append(
                sign_in.second_step(
                    uow=container.uow(),
                    session=session,
                    user=user,
                    code=code,
                    client_addr="192.0.2.50",
                    policy=policy,
                    now=container.clock(),
                )
            )
        except InvalidCredentials as exc:
            lost.append(exc)

    threads = [threading.Thread(target=go, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1 and len(lost) == 3
    assert not any(isinstance(e, LoginLocked) for e in lost)


def test_a_password_is_hashed_with_no_transaction_open(container, engine, monkeypatch):
    add_staff(container)
    real = PasswordHasher.verify
    writes = []

    def verify(self, stored, password):
        # Another writer, meanwhile, must not wait for sign-in's transaction.
        with engine.connect() as other:
            with other.begin():
                if engine.dialect.name == "sqlite":
                    other.exec_driver_sql("PRAGMA busy_timeout = 0")
                else:
                    other.execute(text("SET LOCAL lock_timeout = '50ms'"))
                other.execute(
                    text(
                        "UPDATE staff_users SET full_name = full_name WHERE username = 'nurse.kim'"
                    )
                )
            writes.append(True)
        return real(self, stored, password)

    monkeypatch.setattr(PasswordHasher, "verify", verify)
    policy = staff_session.policy(container.settings)
    for password in (PASSWORD, "a wrong password"):
        with contextlib.suppress(InvalidCredentials):
            sign_in.sign_in(
                uow=container.uow(),
                username="nurse.kim",
                password=password,
                client_addr="192.0.2.1",
                policy=policy,
                now=container.clock() + timedelta(minutes=1),
            )
    with pytest.raises(InvalidCredentials):  # an unknown name is hashed the same way
        sign_in.sign_in(
            uow=container.uow(),
            username="nobody.here",
            password=PASSWORD,
            client_addr="192.0.2.1",
            policy=policy,
            now=container.clock(),
        )
    assert writes == [True, True, True]
