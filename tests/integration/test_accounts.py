"""Staff accounts, sessions, CSRF and API tokens; every route but health needs a login or token."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from webtools import PASSWORD, add_staff, client, csrf, login, post_form, token

from reminders.adapters.db.orm import api_tokens as api_token_rows
from reminders.adapters.db.orm import staff_users
from reminders.domain.staff.accounts import InvalidAccount, InvalidCredentials, Role
from reminders.services.staff import accounts, api_tokens

# Swagger UI's own files (no patient data) are public like the login page.
# /fhir/metadata: a FHIR server's CapabilityStatement is read before any token (issue 25).
PUBLIC = {
    "/healthz",
    "/readyz",
    "/staff/login",
    "/docs/assets/init.js",
    "/docs/assets/{name}",
    "/fhir/metadata",
}


def test_passwords_are_hashed_with_argon2(container, engine):
    add_staff(container)
    with engine.connect() as conn:
        stored = conn.scalar(select(staff_users.c.password_hash))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    user = accounts.authenticate(
        uow=container.uow(), username="Nurse.Kim ", password=PASSWORD, now=container.clock()
    )
    assert user.username == "nurse.kim" and user.role is Role.STAFF
    with pytest.raises(InvalidCredentials, match="username or password"):
        accounts.authenticate(
            uow=container.uow(), username="nurse.kim", password="x", now=container.clock()
        )
    with pytest.raises(InvalidCredentials):
        accounts.authenticate(
            uow=container.uow(), username="nobody", password=PASSWORD, now=container.clock()
        )


@pytest.mark.parametrize(
    ("username", "password", "text"),
    [
        ("nurse.kim", PASSWORD, "already"),
        ("x", PASSWORD, "not a username"),
        ("ok.name", "short", "10"),
    ],
)
def test_bad_accounts_are_refused(container, username, password, text):
    add_staff(container)
    with pytest.raises(InvalidAccount, match=text):
        accounts.create_staff_user(
            uow=container.uow(), username=username, password=password, now=container.clock()
        )


def test_pages_need_a_login_and_login_logout_work(container):
    add_staff(container)
    c = client(container)
    r = c.get("/staff/patients?q=ana", follow_redirects=False)
    assert (
        r.status_code == 303
        # The path only (issue 22): a search's text stays out of `next=` and the history.
        and r.headers["location"] == "/staff/login?next=/staff/patients"
    )
    page = c.get("/staff/login")
    bad = c.post(
        "/staff/login",
        data={"username": "nurse.kim", "password": "nope", "csrf_token": csrf(page.text)},
    )
    assert bad.status_code == 401 and "not right" in bad.text
    login(c)
    home = c.get("/staff/patients")
    assert home.status_code == 200 and "Sign out nurse.kim" in home.text
    out = c.post("/staff/logout", data={"csrf_token": csrf(home.text)}, follow_redirects=False)
    assert out.status_code == 303
    assert c.get("/staff/patients", follow_redirects=False).status_code == 303


def test_login_never_redirects_off_site(container):
    add_staff(container)
    c = client(container)
    page = c.get("/staff/login?next=//evil.example/x")
    r = c.post(
        "/staff/login",
        data={
            "username": "nurse.kim",
            "password": PASSWORD,
            "csrf_token": csrf(page.text),
            "next": "//evil.example",
        },
        follow_redirects=False,
    )
    assert r.headers["location"] == "/staff/patients"


def test_a_form_without_the_csrf_token_is_refused(container):
    add_staff(container)
    c = client(container)
    assert (
        c.post("/staff/login", data={"username": "nurse.kim", "password": PASSWORD}).status_code
        == 400
    )
    login(c)
    r = c.post("/staff/enroll", data={"first_name": "Ana", "csrf_token": "forged"})
    assert r.status_code == 400 and "expired" in r.text


def test_a_deactivated_account_loses_its_session(container):
    add_staff(container)
    c = client(container)
    login(c)
    with container.engine.begin() as conn:
        conn.execute(staff_users.update().values(active=False))
    assert c.get("/staff/patients", follow_redirects=False).status_code == 303


def test_tokens_are_hashed_and_revocable(container, engine):
    headers = token(container, "epic")
    raw = headers["Authorization"].split()[1]
    with engine.connect() as conn:
        row = conn.execute(select(api_token_rows)).one()
    assert raw not in str(tuple(row)) and row.prefix == raw[:8]
    c = client(container)
    assert c.get("/api/v1/enrollments/1", headers=headers).status_code == 404  # authenticated
    api_tokens.revoke_api_token(uow=container.uow(), name="epic", by="test", now=container.clock())
    assert c.get("/api/v1/enrollments/1", headers=headers).status_code == 401


def all_routes(routes):
    """Every route, including those of included routers (FastAPI keeps those apart)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from all_routes(inner.routes)
        else:
            yield route


def test_every_route_but_health_needs_a_login_or_token(container):
    c = client(container)
    checked = 0
    for route in all_routes(c.app.routes):
        path = getattr(route, "path", "")
        if path in PUBLIC or path.startswith("/webhooks/"):
            continue
        for method in getattr(route, "methods", set()) - {"HEAD"}:
            url = (
                path.replace("{enrollment_id}", "1")
                .replace("{message_id}", "1")
                .replace("{run_id}", "1")
            )
            r = c.request(method, url, follow_redirects=False)
            if path.startswith("/staff") and path not in ("/staff", "/staff/"):
                assert (r.status_code == 303 and "/staff/login" in r.headers["location"]) or (
                    method == "POST" and r.status_code == 400  # no CSRF token: refused first
                ), (method, path, r.status_code)
            elif path not in ("/staff", "/staff/"):
                assert r.status_code == 401, (method, path, r.status_code)
            checked += 1
    assert checked >= 15


def test_admin_pages_are_for_admins(container):
    add_staff(container, "nurse.kim")
    add_staff(container, "dr.admin", Role.ADMIN)
    c = client(container)
    login(c, "nurse.kim")
    assert c.get("/staff/audit").status_code == 403
    assert c.get("/staff/users").status_code == 403
    c2 = client(container)
    login(c2, "dr.admin")
    page = c2.get("/staff/audit")
    assert page.status_code == 200 and "login" in page.text


def test_admin_adds_an_account(staff, container):
    r = post_form(
        staff,
        "/staff/users",
        "/staff/users",
        {
            "username": "pa.jones",
            "full_name": "Pat Jones",
            "role": "staff",
            "password": "long enough pw",
        },
    )
    assert "Account pa.jones created." in r.text
    bad = post_form(
        staff,
        "/staff/users",
        "/staff/users",
        {"username": "pa.jones", "password": "long enough pw"},
    )
    assert bad.status_code == 422 and "already a user" in bad.text
