"""Helpers for tests of the web app: a client, a signed-in staff user, an API token."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta

from fastapi.testclient import TestClient

from reminders.bootstrap import Container
from reminders.domain.staff.accounts import ALL_SCOPES, Role, Scope
from reminders.entrypoints.web.app import create_app
from reminders.services.staff import accounts, api_tokens

PASSWORD = "correct horse battery"
# The test client's address: a real one (TEST-NET-1), since only valid addresses are kept.
ADDR = "192.0.2.10"
# The staff enrollment form, filled in for Ana.
FORM = {
    "first_name": "Ana",
    "last_name": "Lopez",
    "phone": "(805) 555-0142",
    "email": "ana@example.org",
    "language": "en",
    "timezone": "America/Los_Angeles",
    "procedure": "kyphoplasty",
    "performed_at": "2026-03-07T23:30",
    "levels": "1",
    "consent_sms": "on",
    "consent_sms_method": "verbal",
    "consent_email": "on",
    "consent_email_method": "written",
}


def client(container: Container, addr: str = ADDR) -> TestClient:
    return TestClient(create_app(container), raise_server_exceptions=False, client=(addr, 50000))


def add_staff(container: Container, username: str = "nurse.kim", role: Role = Role.STAFF) -> None:
    accounts.create_staff_user(
        uow=container.uow(), username=username, password=PASSWORD, role=role, now=container.clock()
    )


def token(
    container: Container, name: str = "epic", scopes: Iterable[Scope] = ALL_SCOPES
) -> dict[str, str]:
    _, raw = api_tokens.create_api_token(
        uow=container.uow(), name=name, by="test", now=container.clock(), scopes=frozenset(scopes)
    )
    return {"Authorization": f"Bearer {raw}"}


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def login(c: TestClient, username: str = "nurse.kim", password: str = PASSWORD) -> list[str]:
    """Sign in, through the second factor when the account needs one (set up on first use).

    Returns the recovery codes when this sign-in set the factor up.
    """
    page = c.get("/staff/login")
    r = c.post(
        "/staff/login",
        data={"username": username, "password": password, "csrf_token": csrf(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    if r.headers["location"] == "/staff/mfa/setup":
        setup = c.get("/staff/mfa/setup")
        secret = re.search(r"<code>([A-Z2-7]{16,})</code>", setup.text)
        assert secret, "the set-up page shows no key"
        done = c.post(
            "/staff/mfa/setup",
            data={"code": totp_code(c, secret.group(1)), "csrf_token": csrf(setup.text)},
        )
        assert done.status_code == 200, done.text
        return re.findall(r"<li><code>([a-z2-9-]+)</code></li>", done.text)
    if r.headers["location"] == "/staff/login/code":
        form = c.get("/staff/login/code")
        container: Container = c.app.state.container  # type: ignore[attr-defined]
        with container.uow() as uow:
            found = uow.staff.by_username(username)
            assert found is not None
            secret = uow.staff.totp_secret(found[0].id)
        assert secret
        # The step after the last one used: a code is accepted once (replay protection).
        done = c.post(
            "/staff/login/code",
            data={"code": totp_code(c, secret, ahead=True), "csrf_token": csrf(form.text)},
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text
    return []


def totp_code(c: TestClient, secret: str, *, ahead: bool = False) -> str:
    """The code the authenticator app would show at the app's own clock."""
    import pyotp

    container: Container = c.app.state.container  # type: ignore[attr-defined]
    when = container.clock() + (timedelta(seconds=30) if ahead else timedelta(0))
    return pyotp.TOTP(secret).at(when)


def post_form(c: TestClient, page_url: str, action: str, data: dict[str, str], **kw):
    """Open a page, then post one of its forms with the page's CSRF token."""
    page = c.get(page_url)
    return c.post(action, data={**data, "csrf_token": csrf(page.text)}, **kw)


def errors_on(html: str) -> dict[str, str]:
    """The inline field errors a page shows, by field."""
    import html as h

    return {m[0]: h.unescape(m[1]) for m in re.findall(r'id="([a-z_]+)-error">([^<]*)<', html)}


def enroll_by_form(staff: TestClient, **change: str) -> int:
    """Enroll Ana (with changes) through the staff form; return the new enrollment id."""
    r = post_form(
        staff, "/staff/enroll", "/staff/enroll", {**FORM, **change}, follow_redirects=False
    )
    assert r.status_code == 303, errors_on(r.text)
    return int(r.headers["location"].rsplit("/", 1)[1])
