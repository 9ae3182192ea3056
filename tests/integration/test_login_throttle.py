"""The sign-in throttle (services/staff/login_throttle.py) through the app: an account lock and an
address lock, each with its own message and wait; unlocking; wrong codes count too."""

from __future__ import annotations

from click.testing import CliRunner
from test_sign_in import attempt, audit_rows, give_code, in_, said, secret_of, wrong_code
from webtools import add_staff, client, login

from reminders.bootstrap import bootstrap
from reminders.domain.staff.accounts import Role
from reminders.entrypoints.cli.main import main

ACCOUNT_LOCKED = (
    "Too many failed sign-ins for this account. It is locked for {} more minute(s); wait,"
    " or ask an admin to unlock it (Accounts page: Enable, or `reminders staff enable USERNAME`)."
)
ADDRESS_LOCKED = (
    "Too many failed sign-ins from this device's network address. Sign-in from here is paused"
    " for {} more minute(s), for every account; wait and try again (unlocking an account does"
    " not lift this)."
)


def test_five_failures_lock_the_account_even_for_the_right_password(container, engine):
    add_staff(container)
    c = client(container)
    for _ in range(4):
        r = attempt(c, password="wrong password")
        assert r.status_code == 401 and "not right" in r.text
    r = attempt(c, password="wrong password")
    assert r.status_code == 429 and said(r) == ACCOUNT_LOCKED.format(15)
    right = attempt(c)
    assert right.status_code == 429 and said(right) == ACCOUNT_LOCKED.format(15)
    container.clock.advance(minutes=14)
    r = attempt(c)
    assert r.status_code == 429 and said(r) == ACCOUNT_LOCKED.format(1)
    container.clock.advance(minutes=2)
    assert attempt(c).status_code == 303 and in_(c)
    rows = audit_rows(engine, "login_failed", "login_locked", "login_refused", "login")
    assert [a for _, a, _ in rows] == ["login_failed"] * 5 + ["login_locked"] + [
        "login_refused"
    ] * 2 + ["login"]
    assert {(actor, addr) for actor, _, addr in rows} == {("nurse.kim", "testclient")}


def test_failures_spread_over_accounts_lock_the_address(container, engine, settings, clock):
    strict = bootstrap(
        settings.model_copy(update={"login_max_failures_per_address": 3}),
        engine=engine,
        clock=clock,
    )
    add_staff(strict)
    c = client(strict)
    for name in ("a.one", "b.two"):
        assert attempt(c, username=name, password="x" * 12).status_code == 401
    r = attempt(c, username="c.three", password="x" * 12)
    assert r.status_code == 429 and said(r) == ADDRESS_LOCKED.format(15)
    clock.advance(minutes=5)
    r = attempt(c)  # a real account, from the locked address: the address is named, not it
    assert r.status_code == 429 and said(r) == ADDRESS_LOCKED.format(10)
    assert "staff enable" not in r.text  # an admin's unlock of an account would not help
    locked = audit_rows(engine, "login_locked")
    assert locked == [("c.three", "login_locked", "testclient")]


def test_an_unlock_by_enable_and_a_success_resets_the_account_count(container, monkeypatch):
    monkeypatch.setattr("reminders.entrypoints.cli.staff.container", lambda: container)
    add_staff(container)
    c = client(container)
    for _ in range(5):
        attempt(c, password="wrong password")
    assert attempt(c).status_code == 429
    assert CliRunner().invoke(main, ["staff", "enable", "nurse.kim"]).exit_code == 0
    assert attempt(c).status_code == 303


def test_wrong_codes_count_toward_the_lock(container):
    add_staff(container, "dr.lee", Role.ADMIN)
    login(client(container), "dr.lee")
    c = client(container)
    attempt(c, "dr.lee")
    for _ in range(4):
        assert give_code(c, wrong_code(c, secret_of(container, "dr.lee"))).status_code == 401
    r = give_code(c, wrong_code(c, secret_of(container, "dr.lee")))
    assert r.status_code == 429 and said(r) == ACCOUNT_LOCKED.format(15)
    assert attempt(c, "dr.lee").status_code == 429  # the password alone is refused too now
