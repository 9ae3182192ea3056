"""Server-side staff sessions: logout, password, role and disable end them; idle and lifetime limits."""

from __future__ import annotations

import base64
import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from webtools import ADDR, PASSWORD, add_staff, client, csrf, login, post_form

from reminders.adapters.db.orm import audit_log, staff_sessions
from reminders.domain.staff.accounts import Role
from reminders.entrypoints.cli.main import main


@pytest.fixture
def cli(container, monkeypatch):
    monkeypatch.setattr("reminders.entrypoints.cli.staff.container", lambda: container)
    return CliRunner()


def signed_in(container, username="nurse.kim", role=Role.STAFF):
    add_staff(container, username, role)
    c = client(container)
    login(c, username)
    assert c.get("/staff/patients", follow_redirects=False).status_code == 200
    return c


def stolen_copy(container, c):
    """A second browser holding the same cookie (what an attacker who copied it would have)."""
    other = client(container)
    other.cookies.set("reminders_session", c.cookies["reminders_session"])
    return other


def refused(c) -> bool:
    r = c.get("/staff/patients", follow_redirects=False)
    return r.status_code == 303 and r.headers["location"].startswith("/staff/login")


def cookie_payload(c) -> dict:
    raw = c.cookies["reminders_session"].split(".")[0]
    return json.loads(base64.b64decode(raw + "=" * (-len(raw) % 4)))


def test_the_cookie_carries_only_an_opaque_id_and_flashes_stay_server_side(container):
    c = signed_in(container)
    r = post_form(
        c,
        "/staff/enroll",
        "/staff/enroll",
        {
            "first_name": "Ana",
            "last_name": "Lopez",
            "phone": "(805) 555-0142",
            "language": "en",
            "timezone": "America/Los_Angeles",
            "procedure": "kyphoplasty",
            "performed_at": "2026-03-07T23:30",
            "levels": "1",
            "consent_sms": "on",
            "consent_sms_method": "verbal",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    payload = cookie_payload(c)
    assert set(payload) <= {"sid", "csrf"}, payload
    assert "Lopez" not in json.dumps(payload) and "nurse" not in json.dumps(payload)
    page = c.get(r.headers["location"])
    assert "Enrolled Ana Lopez." in page.text  # the notice still shows, once
    assert "Enrolled Ana Lopez." not in c.get(r.headers["location"]).text


def test_the_old_cookie_is_refused_after_logout_everywhere(container, engine):
    c = signed_in(container)
    copy = stolen_copy(container, c)
    tablet = client(container)
    login(tablet)
    home = c.get("/staff/patients")
    out = c.post("/staff/logout", data={"csrf_token": csrf(home.text)}, follow_redirects=False)
    assert out.status_code == 303
    assert refused(copy) and refused(c) and refused(tablet)
    with engine.connect() as conn:
        reasons = conn.execute(select(staff_sessions.c.ended_reason)).scalars().all()
        logout = conn.execute(
            select(audit_log.c.detail, audit_log.c.client_addr).where(
                audit_log.c.action == "logout"
            )
        ).one()
    assert reasons == ["logout", "logout"] and logout == ("2 session(s) ended", ADDR)


def test_the_old_cookie_is_refused_after_a_password_change(container, cli):
    c = signed_in(container)
    r = cli.invoke(
        main, ["staff", "password", "nurse.kim", "--password-stdin"], input="a new password 2\n"
    )
    assert r.exit_code == 0, r.output
    assert refused(stolen_copy(container, c)) and refused(c)
    login(c, password="a new password 2")
    assert not refused(c)


def test_disable_ends_every_session_and_blocks_sign_in_until_enabled(container, cli, engine):
    c = signed_in(container)
    r = cli.invoke(main, ["staff", "disable", "nurse.kim"])
    assert r.exit_code == 0 and "sessions have ended" in r.output
    assert refused(stolen_copy(container, c))
    page = c.get("/staff/login")
    bad = c.post(
        "/staff/login",
        data={"username": "nurse.kim", "password": PASSWORD, "csrf_token": csrf(page.text)},
    )
    assert bad.status_code == 401
    assert cli.invoke(main, ["staff", "enable", "nurse.kim"]).exit_code == 0
    login(c)
    with engine.connect() as conn:
        actions = conn.execute(select(audit_log.c.actor, audit_log.c.action)).all()
    assert ("cli", "staff_disabled") in actions and ("cli", "staff_enabled") in actions


def test_a_role_change_on_the_accounts_page_ends_that_users_sessions(container, engine):
    admin = signed_in(container, "dr.lee", Role.ADMIN)
    nurse = signed_in(container, "nurse.kim")
    copy = stolen_copy(container, nurse)
    r = post_form(
        admin,
        "/staff/users",
        "/staff/users/manage",
        {"username": "nurse.kim", "action": "role", "role": "admin"},
    )
    assert r.status_code == 200 and "nurse.kim is now admin" in r.text
    assert refused(nurse) and refused(copy)
    assert not refused(admin)  # only that user's sessions end
    with engine.connect() as conn:
        row = conn.execute(
            select(audit_log.c.actor, audit_log.c.detail, audit_log.c.client_addr).where(
                audit_log.c.action == "role_set"
            )
        ).one()
    assert row == ("dr.lee", "nurse.kim: staff -> admin; 1 session(s) ended", ADDR)


def test_accounts_page_disables_sets_a_password_and_refuses_bad_changes(container):
    admin = signed_in(container, "dr.lee", Role.ADMIN)
    nurse = signed_in(container, "nurse.kim")
    r = post_form(
        admin,
        "/staff/users",
        "/staff/users/manage",
        {"username": "nurse.kim", "action": "password", "password": "short"},
    )
    assert r.status_code == 422 and "10 characters" in r.text and not refused(nurse)
    r = post_form(
        admin, "/staff/users", "/staff/users/manage", {"username": "nurse.kim", "action": "disable"}
    )
    assert "nurse.kim disabled" in r.text and refused(nurse)
    assert "disabled</span>" in admin.get("/staff/users").text
    # The last active admin cannot lock everyone out of account management.
    last = post_form(
        admin, "/staff/users", "/staff/users/manage", {"username": "dr.lee", "action": "disable"}
    )
    assert last.status_code == 422 and "only active admin" in last.text and not refused(admin)
    nurse_page = nurse.get("/staff/users", follow_redirects=False)
    assert nurse_page.status_code == 303


def test_idle_timeout_and_absolute_lifetime(container, engine):
    c = signed_in(container)
    container.clock.advance(minutes=29)
    assert not refused(c)  # in use: each request keeps it alive
    container.clock.advance(minutes=29)
    assert not refused(c)
    container.clock.advance(minutes=31)
    assert refused(c)
    login(c)
    for _ in range(12 * 3 + 1):  # busy all day, never idle for 30 minutes ...
        container.clock.advance(minutes=20)
        if refused(c):
            break
    # ... still ends after 12 hours
    with engine.connect() as conn:
        reasons = (
            conn.execute(select(staff_sessions.c.ended_reason).order_by(staff_sessions.c.id))
            .scalars()
            .all()
        )
    assert reasons == ["idle", "lifetime"]


def test_cli_role_and_unknown_user_errors(container, cli):
    add_staff(container)
    r = cli.invoke(main, ["staff", "role", "nobody", "admin"])
    assert r.exit_code == 2 and "there is no user 'nobody'" in r.output
    r = cli.invoke(main, ["staff", "role", "nurse.kim", "admin"])
    assert r.exit_code == 0 and "now admin" in r.output
    listing = cli.invoke(main, ["staff", "list"]).output
    assert "nurse.kim" in listing and "admin" in listing


def test_changing_ones_own_password_needs_the_current_one_and_signs_out_everywhere(container):
    c = signed_in(container)
    copy = stolen_copy(container, c)
    page = c.get("/staff/account")
    assert page.status_code == 200 and "Set up two-step sign-in" in page.text
    wrong = post_form(
        c,
        "/staff/account",
        "/staff/account/password",
        {
            "current_password": "not my password",
            "new_password": "a new password 2",
            "new_password_again": "a new password 2",
        },
    )
    assert wrong.status_code == 422 and "not your current password" in wrong.text
    assert not refused(copy)
    r = post_form(
        c,
        "/staff/account",
        "/staff/account/password",
        {
            "current_password": PASSWORD,
            "new_password": "a new password 2",
            "new_password_again": "a new password 2",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/staff/login"
    assert "Password changed" in c.get("/staff/login").text
    assert refused(copy) and refused(c)
    login(c, password="a new password 2")
    assert not refused(c)
