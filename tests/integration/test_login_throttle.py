"""The sign-in throttle (services/staff/login_throttle.py) through the app: a password slows its
account down (never locks it), a second factor locks after wrong codes whatever the password
does, a network (an IPv4 address, an IPv6 /64) locks, and the audit log gets a count, not a row
per refused request."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import func, select
from test_sign_in import attempt, audit_rows, give_code, in_, said, secret_of, wrong_code
from webtools import ADDR, add_staff, client, login
from webtools import totp_code as totp_now

from reminders.adapters.db.orm import audit_log
from reminders.bootstrap import bootstrap
from reminders.domain.staff.accounts import Role
from reminders.entrypoints.cli.main import main

CODE_LOCKED = (
    "Too many wrong codes for this account's two-step sign-in. It is locked for {} more"
    " minute(s); wait, or ask an admin to unlock it (Accounts page: Enable, or"
    " `reminders staff enable USERNAME`)."
)
DELAYED = (
    "Too many wrong passwords for this account: wait {} second(s) before the next try,"
    " then sign in as usual."
)
ADDRESS_LOCKED = (
    "Too many failed sign-ins from this device's network. Sign-in from here is paused for {}"
    " more minute(s); wait and try again (unlocking an account does not lift this)."
)


def test_wrong_passwords_from_anywhere_only_slow_the_account_down(container, engine):
    """Finding 11: five wrong passwords locked any guessable account for 15 minutes."""
    add_staff(container)
    for i in range(30):  # an attacker on 30 networks, waiting out each delay
        stranger = client(container, f"198.51.100.{i + 1}")
        r = attempt(stranger, password="wrong password")
        assert r.status_code in (401, 429)
        container.clock.advance(seconds=61)
    nurse = client(container)
    assert attempt(nurse).status_code == 303 and in_(nurse)
    # Right after a wrong password past the limit, the next try waits seconds, not minutes.
    for i in range(5):
        attempt(client(container, f"203.0.113.{i + 1}"), password="wrong password")
    r = attempt(client(container, "203.0.113.99"))
    assert r.status_code == 429 and said(r) == DELAYED.format(1)
    container.clock.advance(seconds=2)
    assert attempt(client(container, "203.0.113.99")).status_code == 303


def test_the_delay_grows_but_never_past_its_cap(container):
    add_staff(container)
    c = client(container)
    waits = []
    for _ in range(14):
        r = attempt(c, password="wrong password")
        if r.status_code == 429:
            waits.append(said(r))
        container.clock.advance(seconds=61)
    assert DELAYED.format(60) in waits  # 2^6 s capped at 60
    assert all("minute" not in w for w in waits)


def test_a_right_password_never_resets_the_second_factors_count(container, engine):
    """Finding 1: the password every 4 wrong codes, from 10 addresses, then the right code."""
    add_staff(container, "dr.lee", Role.ADMIN)
    login(client(container), "dr.lee")
    secret = secret_of(container, "dr.lee")
    statuses = []
    for i in range(10):
        c = client(container, f"2001:db8:{i}::1")  # 10 different /64 networks
        assert attempt(c, "dr.lee").status_code == 303  # the password is known
        for _ in range(4):
            statuses.append(give_code(c, wrong_code(c, secret)).status_code)
        if 429 in statuses:
            break
    assert statuses[:4] == [401] * 4 and 429 in statuses and len(statuses) < 10
    c = client(container, "2001:db8:99::1")
    assert attempt(c, "dr.lee").status_code == 303
    r = give_code(c, totp_now(c, secret))
    assert r.status_code == 429 and said(r) == CODE_LOCKED.format(15)
    assert not in_(c)
    locks = audit_rows(engine, "login_locked")
    assert [a for a, _, _ in locks] == ["dr.lee"]


def test_an_admins_enable_lifts_the_code_lock(container, monkeypatch):
    monkeypatch.setattr("reminders.entrypoints.cli.staff.container", lambda: container)
    add_staff(container, "dr.lee", Role.ADMIN)
    login(client(container), "dr.lee")
    secret = secret_of(container, "dr.lee")
    c = client(container)
    attempt(c, "dr.lee")
    for _ in range(5):
        give_code(c, wrong_code(c, secret))
    assert CliRunner().invoke(main, ["staff", "enable", "dr.lee"]).exit_code == 0
    container.clock.advance(seconds=31)  # the next step's code: each is good once
    c = client(container)
    assert attempt(c, "dr.lee").status_code == 303
    assert give_code(c, totp_now(c, secret)).status_code == 303 and in_(c)


def test_failures_spread_over_an_ipv6_64_lock_that_network(container, engine, settings, clock):
    """Finding 1: every IPv6 address was counted apart."""
    strict = bootstrap(
        settings.model_copy(update={"login_max_failures_per_address": 3}),
        engine=engine,
        clock=clock,
    )
    add_staff(strict)
    for i, name in enumerate(("a.one", "b.two")):
        r = attempt(client(strict, f"2001:db8:5:5::{i + 1}"), username=name, password="x" * 12)
        assert r.status_code == 401
    r = attempt(client(strict, "2001:db8:5:5::3"), username="c.three", password="x" * 12)
    assert r.status_code == 429 and said(r) == ADDRESS_LOCKED.format(15)
    clock.advance(minutes=5)
    r = attempt(client(strict, "2001:db8:5:5:ffff::9"))  # the right password, same /64
    assert r.status_code == 429 and said(r) == ADDRESS_LOCKED.format(10)
    assert attempt(client(strict, "2001:db8:5:6::1")).status_code == 303  # another /64


def test_refused_sign_ins_are_counted_not_logged_one_by_one(container, engine, settings, clock):
    """Finding 6: each refused sign-in wrote a row, under any username typed."""
    strict = bootstrap(
        settings.model_copy(update={"login_max_failures_per_address": 3}),
        engine=engine,
        clock=clock,
    )
    c = client(strict)
    for i in range(3):
        attempt(c, username=f"guess{i}", password="x" * 12)
    before = all_rows(engine)
    for i in range(200):
        r = attempt(c, username=f"flood{i}", password="x" * 12)
        assert r.status_code == 429
    assert all_rows(engine) == before
    clock.advance(minutes=31)  # the next window: its first failure brings the count
    attempt(c, username="late", password="x" * 12)
    summary = audit_rows(engine, "login_failures")
    assert len(summary) == 1 and summary[0][2] == ADDR
    failed = [a for a, _, _ in audit_rows(engine, "login_failed")]
    assert failed == ["guess0", "late"]  # one per window, never "flood..."
    with engine.connect() as conn:
        detail = conn.scalar(
            select(audit_log.c.detail).where(audit_log.c.action == "login_failures")
        )
    assert detail.startswith("200 failed or refused sign-ins from 192.0.2.10")


def all_rows(engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(audit_log)))
