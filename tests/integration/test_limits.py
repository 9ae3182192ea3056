"""Every staff-side door given 10,000 characters on PostgreSQL: a clear error, never a 500,
nothing written (domain/staff/limits.py and the checks that use it)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import insert, select
from webtools import FORM, PASSWORD, add_staff, client, enroll_by_form, errors_on, login, post_form

from reminders.adapters.db.orm import escalations, metadata
from reminders.domain.staff.accounts import Role
from reminders.entrypoints.cli.main import main

# PostgreSQL is where a value longer than its column fails (SQLite stores it anyway).
pytestmark = pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
HUGE = "x" * 10_000


def snapshot(engine) -> dict[str, list[tuple]]:
    """Every row of every table: what 'nothing written' is checked against.

    Left out: a session's one-time notice, and the audit rows recording that a page was
    read (showing the page again, with the error, is a read).
    """
    with engine.connect() as conn:
        return {
            t.name: [
                tuple(v for k, v in r._mapping.items() if k != "flash")
                for r in conn.execute(select(t).order_by(*t.primary_key.columns))
                if not (t.name == "audit_log" and r.action == "read")
            ]
            for t in metadata.sorted_tables
        }


@pytest.fixture
def admin(container):
    """An admin signed in, and Ana enrolled through the staff form."""
    add_staff(container, "dr.lee", Role.ADMIN)
    c = client(container)
    login(c, "dr.lee")
    c.eid = enroll_by_form(c)  # type: ignore[attr-defined]
    return c


def _refused(r, field: str) -> None:
    assert r.status_code == 422, (r.status_code, r.text[-500:])
    shown = errors_on(r.text)
    message = shown.get(field) or shown.get("form", "")
    assert "10,000 characters" in message and len(message) < 200, shown  # not echoed


ACCOUNT_DOORS = {
    "new account: full name": (
        "/staff/users",
        "/staff/users",
        {"username": "ann.ray", "full_name": HUGE, "role": "staff", "password": PASSWORD},
        "full_name",
    ),
    "new account: username": (
        "/staff/users",
        "/staff/users",
        {"username": HUGE, "full_name": "Ann", "role": "staff", "password": PASSWORD},
        "username",
    ),
    "new account: password": (
        "/staff/users",
        "/staff/users",
        {"username": "ann.ray", "full_name": "Ann", "role": "staff", "password": HUGE},
        "password",
    ),
    "change: username": (
        "/staff/users",
        "/staff/users/manage",
        {"username": HUGE, "action": "disable"},
        "form",
    ),
    "change: password": (
        "/staff/users",
        "/staff/users/manage",
        {"username": "dr.lee", "action": "password", "password": HUGE},
        "form",
    ),
    "my password": (
        "/staff/account",
        "/staff/account/password",
        {"current_password": PASSWORD, "new_password": HUGE, "new_password_again": HUGE},
        "new_password",
    ),
}


@pytest.mark.parametrize("door", list(ACCOUNT_DOORS))
def test_account_fields(admin, engine, door):
    page, action, data, field = ACCOUNT_DOORS[door]
    before = snapshot(engine)
    r = post_form(admin, page, action, data)
    if field == "form":  # the accounts page says it on top, naming the account
        message = errors_on(r.text).get("form", "") or _top_error(r.text)
        assert r.status_code == 422 and "10,000" in message and len(message) < 200, message
    else:
        _refused(r, field)
    assert snapshot(engine) == before


def _top_error(html: str) -> str:
    import html as h
    import re

    found = re.search(r'class="flash bad" role="alert" id="form-error">([^<]*)<', html)
    return h.unescape(found.group(1)) if found else ""


def _escalation(engine, eid: int) -> int:
    with engine.begin() as conn:
        now = datetime(2026, 3, 8, 8, 0, tzinfo=UTC)
        return conn.execute(
            insert(escalations)
            .values(
                enrollment_id=eid,
                kind="no_answer",
                reason="no answer to the day 1 check-in",
                status="open",
                notes="",
                created_at=now,
                updated_at=now,
            )
            .returning(escalations.c.id)
        ).scalar_one()


@pytest.mark.parametrize("step", ["acknowledge", "resolve"])
@pytest.mark.parametrize("back", [False, True], ids=["from the inbox", "from the patient page"])
def test_inbox_and_task_notes(admin, engine, step, back):
    esc = _escalation(engine, admin.eid)
    before = snapshot(engine)
    data = {"note": HUGE} | ({"back": f"/staff/patients/{admin.eid}"} if back else {})
    r = post_form(admin, "/staff/inbox", f"/staff/inbox/escalations/{esc}/{step}", data)
    assert r.status_code == 200  # after the redirect: the page, with the error said once
    assert r.url.path == (f"/staff/patients/{admin.eid}" if back else "/staff/inbox")
    assert r.text.count("the note is 10,000 characters long; at most 2,000 fit") == 1
    if not back:
        assert f'id="note-{esc}-error"' in r.text  # beside the note it concerns
    assert snapshot(engine) == before


ENROLLMENT_DOORS = {
    "cancel reason": ("cancel", {"reason": HUGE}, "reason"),
    "language": ("preferences", {"consent_sms": "on", "language": HUGE}, "language"),
    "procedure time": ("reschedule", {"performed_at": HUGE}, "performed_at"),
    "consent method": (
        "preferences",
        {"consent_sms": "on", "consent_sms_method": HUGE},
        "consent_sms_method",
    ),
}


@pytest.mark.parametrize("door", list(ENROLLMENT_DOORS))
def test_enrollment_notes_and_changes(admin, engine, door):
    action, data, field = ENROLLMENT_DOORS[door]
    before = snapshot(engine)
    page = f"/staff/patients/{admin.eid}"
    r = post_form(admin, page, f"{page}/{action}", data)
    assert r.status_code == 422, r.text[-300:]
    shown = errors_on(r.text)
    message = shown.get(field) or shown.get("form", "") or shown.get(field.split("_")[0], "")
    assert message and len(message) < 200, shown  # said clearly, without the value
    assert snapshot(engine) == before


READ_DOORS = {
    "patient search": ("/staff/patients", "q"),
    "audit: user": ("/staff/audit", "actor"),
    "audit: action": ("/staff/audit", "action"),
    "audit: patient": ("/staff/audit", "patient"),
    "audit: from": ("/staff/audit", "day_from"),
    "audit: to": ("/staff/audit", "day_to"),
}


@pytest.mark.parametrize("door", list(READ_DOORS))
def test_search_and_audit_filters(admin, engine, door):
    path, field = READ_DOORS[door]
    admin.get(path)  # the page once, as staff open it first
    before, reads = snapshot(engine), read_rows(engine)
    r = admin.get(path, params={field: HUGE})
    assert r.status_code == 422 and "10,000 characters long" in errors_on(r.text)[field]
    assert f'aria-describedby="{field}-error"' in r.text
    assert snapshot(engine) == before
    assert read_rows(engine) == reads  # nothing shown, so no read recorded either


def read_rows(engine) -> int:
    from sqlalchemy import func

    from reminders.adapters.db.orm import audit_log

    with engine.connect() as conn:
        return conn.scalar(
            select(func.count()).select_from(audit_log).where(audit_log.c.action == "read")
        )


@pytest.fixture
def cli(container, monkeypatch):
    for module in ("main", "enrollments", "staff"):
        monkeypatch.setattr(f"reminders.entrypoints.cli.{module}.container", lambda: container)
    return CliRunner()


ENROLL = ["enroll", "--first-name", "Ana", "--last-name", "Lopez", "--phone", FORM["phone"]]
ENROLL += ["--procedure", "kyphoplasty", "--performed-at", "2026-03-07T23:30"]
CLI_DOORS = {
    "staff create --full-name": (["staff", "create", "ann.ray", "--full-name", HUGE], PASSWORD),
    "staff create USERNAME": (["staff", "create", HUGE], PASSWORD),
    "staff create (password)": (["staff", "create", "ann.ray"], HUGE),
    "staff password (password)": (["staff", "password", "dr.lee"], HUGE),
    "staff password USERNAME": (["staff", "password", HUGE], PASSWORD),
    "staff disable USERNAME": (["staff", "disable", HUGE], None),
    "staff enable USERNAME": (["staff", "enable", HUGE], None),
    "staff role USERNAME": (["staff", "role", HUGE, "admin"], None),
    "staff mfa-reset USERNAME": (["staff", "mfa-reset", HUGE], None),
    "token create NAME": (["token", "create", HUGE], None),
    "token revoke NAME": (["token", "revoke", HUGE], None),
    "enroll --by": ([*ENROLL, "--consent", "sms:verbal", "--by", HUGE], None),
    "enroll --external-id": ([*ENROLL, "--consent", "sms:verbal", "--external-id", HUGE], None),
    "cancel --reason": (["cancel", "{eid}", "--reason", HUGE], None),
    "cancel --by": (["cancel", "{eid}", "--by", HUGE], None),
    "reschedule --by": (
        ["reschedule", "{eid}", "--performed-at", "2026-03-07T22:00", "--by", HUGE],
        None,
    ),
}


@pytest.mark.parametrize("door", list(CLI_DOORS))
def test_cli_text(admin, engine, cli, door):
    args, stdin = CLI_DOORS[door]
    args = [a.replace("{eid}", str(admin.eid)) for a in args]
    if stdin is not None:
        args.append("--password-stdin")
    before = snapshot(engine)
    r = cli.invoke(main, args, input=f"{stdin}\n" if stdin else None)
    assert r.exit_code == 2, (r.exit_code, r.output[-300:], r.exception)
    assert "error:" in r.output and HUGE not in r.output
    assert snapshot(engine) == before


def test_restart_by(admin, engine, cli):
    """`restart --by` on a cancelled enrollment (the one change restart makes)."""
    assert cli.invoke(main, ["cancel", str(admin.eid)]).exit_code == 0
    before = snapshot(engine)
    r = cli.invoke(main, ["restart", str(admin.eid), "--by", HUGE])
    assert r.exit_code == 2 and "10,000 characters long" in r.output
    assert snapshot(engine) == before
