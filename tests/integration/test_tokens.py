"""API tokens on the accounts page: created with the secret shown once, listed, revoked once."""

from __future__ import annotations

import html
import re

from sqlalchemy import select
from test_api import ANA
from webtools import add_staff, client, csrf, errors_on, login, post_form

from reminders.adapters.db.orm import api_tokens, audit_log
from reminders.domain.staff.accounts import Role

SECRET = re.compile(r"rr_[A-Za-z0-9_-]{20,}")


def create(staff, **fields):  # type: ignore[no-untyped-def]
    data = {"token_name": "epic", "scope": ["enroll"], "expires": "", **fields}
    page = staff.get("/staff/users")
    return staff.post("/staff/tokens", data={**data, "csrf_token": csrf(page.text)})


def shown_secret(page) -> str:  # type: ignore[no-untyped-def]
    found = SECRET.findall(page.text)
    assert len(found) == 1, "the page shows the secret exactly once"
    return found[0]


def test_a_created_token_is_shown_once_and_works_with_its_scope_only(staff, container, engine):
    r = create(staff, token_name="Epic-Feed", scope=["enroll", "fhir"], expires="2099-01-31")
    assert r.status_code == 200 and "Token epic-feed created" in r.text
    assert r.headers["cache-control"] == "no-store"
    raw = shown_secret(r)
    assert raw not in r.headers.get("set-cookie", "")
    with engine.connect() as conn:
        row = conn.execute(select(api_tokens)).one()
    assert raw not in [str(v) for v in row] and row.scopes.split() == ["enroll", "fhir"]

    api = client(container)
    bearer = {"Authorization": f"Bearer {raw}"}
    created = api.post("/api/v1/enrollments", json=ANA, headers=bearer)
    assert created.status_code == 201, created.text
    read = api.get(f"/api/v1/enrollments/{created.json()['id']}", headers=bearer)
    assert read.status_code == 403 and "lacks the `read` scope" in read.json()["detail"]

    # Never again: not on the accounts page, not in a notice, not in the audit log.
    listing = staff.get("/staff/users")
    assert raw not in listing.text and raw[:8] in listing.text
    row_html = re.search(r'<tr data-token="epic-feed">.*?</tr>', listing.text, re.S)
    assert row_html and "enroll, fhir" in row_html.group(0)
    assert "Jan 31, 2099 12:00 AM PST" in row_html.group(0)  # the day picked, clinic time
    assert ">active<" in row_html.group(0) and "Revoke…" in row_html.group(0)
    with engine.connect() as conn:
        details = conn.scalars(select(audit_log.c.detail)).all()
        actions = conn.execute(select(audit_log.c.actor, audit_log.c.action)).all()
    assert not any(raw in (d or "") for d in details)
    assert ("nurse.kim", "token_created") in actions


def test_the_form_says_what_is_wrong_field_by_field(staff):
    no_scope = create(staff, scope=[])
    assert no_scope.status_code == 422
    assert errors_on(no_scope.text) == {"scope": "a token needs at least one scope"}
    past = create(staff, expires="2001-01-01")
    assert errors_on(past.text) == {"expires": "the expiry must be in the future"}
    bad_name = create(staff, token_name="x")
    assert "token_name" in errors_on(bad_name.text) and 'value="x"' in bad_name.text
    assert create(staff).status_code == 200
    again = create(staff)
    assert again.status_code == 422
    assert errors_on(again.text) == {"token_name": "there is already a token named 'epic'"}
    assert not SECRET.search(again.text)


def test_revoke_asks_first_then_the_token_is_refused_and_a_second_submit_is_harmless(
    staff, container, engine
):
    raw = shown_secret(create(staff, scope=["read"]))
    api = client(container)
    bearer = {"Authorization": f"Bearer {raw}"}
    assert api.get("/api/v1/enrollments/1", headers=bearer).status_code == 404  # allowed in

    confirm = staff.get("/staff/tokens/revoke?name=epic")
    assert confirm.status_code == 200 and "Revoke token epic?" in confirm.text
    assert api.get("/api/v1/enrollments/1", headers=bearer).status_code == 404  # not yet

    form = {"name": "epic", "csrf_token": csrf(confirm.text)}
    first = staff.post("/staff/tokens/revoke", data=form)
    assert first.status_code == 200 and "Token epic revoked" in html.unescape(first.text)
    refused = api.get("/api/v1/enrollments/1", headers=bearer)
    assert refused.status_code == 401
    with engine.connect() as conn:
        revoked_at = conn.scalar(select(api_tokens.c.revoked_at))

    second = staff.post("/staff/tokens/revoke", data=form)  # a double click, a reload
    assert second.status_code == 200 and "was already revoked; nothing changed" in second.text
    with engine.connect() as conn:
        assert conn.scalar(select(api_tokens.c.revoked_at)) == revoked_at
        revokes = conn.scalars(
            select(audit_log.c.actor).where(audit_log.c.action == "token_revoked")
        ).all()
    assert revokes == ["nurse.kim"]
    row = re.search(r'<tr data-token="epic">.*?</tr>', second.text, re.S)
    assert row and ">revoked<" in row.group(0) and "Revoke…" not in row.group(0)

    missing = post_form(staff, "/staff/users", "/staff/tokens/revoke", {"name": "nope"})
    assert missing.status_code == 404 and "no token named" in missing.text


def test_tokens_are_for_admins_and_need_the_csrf_token(staff, container, engine):
    add_staff(container, "nurse.lee", Role.STAFF)
    nurse = client(container)
    login(nurse, "nurse.lee")
    token = csrf(nurse.get("/staff/patients").text)
    made = nurse.post(
        "/staff/tokens", data={"token_name": "sneaky", "scope": "read", "csrf_token": token}
    )
    assert made.status_code == 403
    assert nurse.get("/staff/tokens/revoke?name=epic").status_code == 403
    create(staff)
    gone = nurse.post("/staff/tokens/revoke", data={"name": "epic", "csrf_token": token})
    assert gone.status_code == 403

    forged = staff.post("/staff/tokens", data={"token_name": "forged", "scope": "read"})
    assert forged.status_code == 400
    with engine.connect() as conn:
        names = conn.scalars(select(api_tokens.c.name)).all()
        revoked = conn.scalars(select(api_tokens.c.revoked_at)).all()
    assert names == ["epic"] and revoked == [None]
