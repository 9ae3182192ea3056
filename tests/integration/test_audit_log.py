"""The audit log: reads of patient data are recorded; the hash chain shows any tampering."""

from __future__ import annotations

from unittest.mock import ANY

import pytest
import test_webhooks as shared
from click.testing import CliRunner
from csvfiles import GOOD_AND_BAD, run_worker, upload
from sqlalchemy import delete, func, select, update
from test_webhooks import DAY1_CHECKIN, deliver, enroll, text_in
from webtools import ADDR, add_staff, client, login, token

from reminders.adapters.db.orm import audit_log
from reminders.domain.staff.accounts import AuditEntry
from reminders.entrypoints.cli.main import main

twilio, smtp, live, web = shared.twilio, shared.smtp, shared.live, shared.web  # fixtures

ANA = {
    "first_name": "Ana",
    "last_name": "Lopez",
    "phone": "(805) 555-0142",
    "procedure": "kyphoplasty",
    "performed_at": "2026-03-07T23:30:00",
    "timezone": "America/Los_Angeles",
    "consents": [{"channel": "sms"}],
}


@pytest.fixture
def cli(container, monkeypatch):
    monkeypatch.setattr("reminders.entrypoints.cli.audit.container", lambda: container)
    return CliRunner()


@pytest.fixture
def enrolled(container):
    api = client(container)
    api.headers.update(token(container))
    r = api.post("/api/v1/enrollments", json=ANA)
    assert r.status_code == 201, r.text
    return api, r.json()["id"]


def reads(engine):
    with engine.connect() as conn:
        return conn.execute(
            select(
                audit_log.c.actor,
                audit_log.c.detail,
                audit_log.c.enrollment_id,
                audit_log.c.client_addr,
            )
            .where(audit_log.c.action == "read")
            .order_by(audit_log.c.id)
        ).all()


def test_a_patient_page_a_search_and_an_api_read_are_recorded(container, engine, enrolled):
    api, eid = enrolled
    add_staff(container)
    staff = client(container)
    login(staff)
    assert reads(engine) == []
    assert staff.get(f"/staff/patients/{eid}").status_code == 200
    assert staff.get("/staff/patients?q=lopez").status_code == 200
    assert staff.get("/staff/patients?q=nobody").status_code == 200
    assert api.get(f"/api/v1/enrollments/{eid}").status_code == 200
    assert api.get("/api/v1/enrollments/999").status_code == 404  # nothing seen, nothing recorded
    assert reads(engine) == [
        ("nurse.kim", "patient page", eid, ADDR),
        ("nurse.kim", f"patient search (5 characters): 1 shown (#{eid})", None, ADDR),
        ("nurse.kim", "patient search (6 characters): 0 shown", None, ADDR),
        ("token:epic", "API GET enrollment", eid, ADDR),
    ]


def reads_at(engine):
    with engine.connect() as conn:
        return conn.execute(
            select(audit_log.c.actor, audit_log.c.detail, audit_log.c.client_addr, audit_log.c.at)
            .where(audit_log.c.action == "read")
            .order_by(audit_log.c.id)
        ).all()


def test_the_import_report_and_its_rejected_rows_are_recorded(container, engine):
    container.send_task = lambda name, *args: None
    add_staff(container)
    staff = client(container)
    login(staff)
    r = upload(staff, GOOD_AND_BAD)
    run_id = int(r.headers["location"].rsplit("/", 1)[1])
    run_worker(container, run_id)
    enrolled = sorted(reads_ids(engine))
    container.clock.advance(minutes=3)
    assert staff.get(f"/staff/imports/{run_id}").status_code == 200
    assert staff.get(f"/staff/imports/{run_id}/rejected.csv").status_code == 200
    assert staff.get("/staff/imports/999999/rejected.csv").status_code == 404  # nothing seen
    ids = ", ".join(f"#{i}" for i in enrolled)
    assert [tuple(r) for r in reads_at(engine)] == [
        ("nurse.kim", f"import #{run_id} report: 5 item(s) of {ids}", ADDR, ANY),
        ("nurse.kim", f"import #{run_id} rejected rows CSV: 3 row(s)", ADDR, ANY),
    ]
    assert {_utc(r.at) for r in reads_at(engine)} == {container.clock()}


def reads_ids(engine):
    from reminders.adapters.db.orm import enrollments

    with engine.connect() as conn:
        return conn.execute(select(enrollments.c.id)).scalars().all()


def _utc(at):
    from datetime import UTC

    return at if at.tzinfo else at.replace(tzinfo=UTC)


def test_the_inbox_list_and_its_patient_page_are_recorded(live, web, engine):
    enroll(live)
    deliver(live, DAY1_CHECKIN)
    text_in(web, live, "9")  # a red flag for Ana
    text_in(web, live, "who is this?", phone="+18055550999")  # a stranger: staff read it
    add_staff(live)
    login(web)
    (eid,) = reads_ids(engine)
    assert web.get("/staff/inbox").status_code == 200
    assert web.get("/staff/inbox?fragment=1").status_code == 200  # the same items: not again
    text_in(web, live, "me again", phone="+18055550998")
    assert web.get("/staff/inbox?fragment=1").status_code == 200  # a new item shown: recorded
    assert web.get(f"/staff/inbox/patients/{eid}").status_code == 200
    assert web.get("/staff/inbox/patients/999999").status_code == 404
    got = reads_at(engine)
    assert [(r.actor, r.detail, r.client_addr) for r in got] == [
        # The `web` client's host is "testclient": not an address, so none is kept.
        ("nurse.kim", f"inbox: 2 item(s) of #{eid}", None),
        ("nurse.kim", f"inbox: 3 item(s) of #{eid} (live refresh)", None),
        ("nurse.kim", "inbox patient page: 1 text(s)", None),
    ]
    with engine.connect() as conn:
        last = conn.execute(select(audit_log).order_by(audit_log.c.id.desc())).first()
    assert last.enrollment_id == eid and _utc(last.at) == live.clock()


def test_verify_passes_on_an_untouched_log(cli, enrolled):
    r = cli.invoke(main, ["audit", "verify"])
    assert r.exit_code == 0 and "intact: 2 row(s)" in r.output


def _five_rows(container):
    for i in range(5):
        with container.uow() as uow:
            uow.audit.add(
                AuditEntry(
                    at=container.clock(), actor="nurse.kim", action="read", detail=f"page {i}"
                )
            )
            uow.commit()


def test_a_row_changed_by_sql_is_named(cli, container, engine):
    _five_rows(container)
    with engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.id == 3).values(actor="someone.else"))
    r = cli.invoke(main, ["audit", "verify"])
    assert r.exit_code == 1
    assert "BROKEN at row 3: its content no longer matches its hash" in r.output


def test_a_deleted_row_is_found_at_the_next_one(cli, container, engine):
    _five_rows(container)
    with engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.id == 2))
    r = cli.invoke(main, ["audit", "verify"])
    assert r.exit_code == 1 and "BROKEN at row 3: its link to the previous row" in r.output


def test_a_row_rewritten_with_a_fresh_hash_breaks_the_link_after_it(cli, container, engine):
    """Recomputing one row's own hash does not help: the next row still points at the old one."""
    from reminders.domain.staff.audit_chain import row_hash

    _five_rows(container)
    with engine.begin() as conn:
        row = conn.execute(select(audit_log).where(audit_log.c.id == 2)).one()
        forged = row_hash(
            prev_hash=row.prev_hash,
            id=2,
            at=row.at,
            actor=row.actor,
            action=row.action,
            detail="nothing to see",
            enrollment_id=None,
            client_addr=None,
        )
        conn.execute(
            update(audit_log)
            .where(audit_log.c.id == 2)
            .values(detail="nothing to see", row_hash=forged)
        )
    r = cli.invoke(main, ["audit", "verify"])
    # Keyed (issue 22): the rewritten row itself is found, not only the link after it.
    assert r.exit_code == 1 and "row 2" in r.output


def test_the_repository_has_no_way_to_change_or_remove_rows(container):
    with container.uow() as uow:
        public = {n for n in dir(uow.audit) if not n.startswith("_")}
    assert public == {"add", "flush", "recent", "actions", "chain", "count", "conn"} | {
        "key",  # the chain's HMAC key (issue 22): read-only helpers below, no writer
        "head",
        "hash_of",
        "last",
    }


def test_concurrent_writers_keep_one_chain(container, engine, cli):
    """Writers from many threads still form one unbroken chain (the lock serializes them)."""
    from concurrent.futures import ThreadPoolExecutor

    def write(i: int) -> None:
        with container.uow() as uow:
            uow.audit.add(AuditEntry(at=container.clock(), actor="t", action="read", detail=str(i)))
            uow.commit()

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(write, range(30)))
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(audit_log)) == 30
    r = cli.invoke(main, ["audit", "verify"])
    assert r.exit_code == 0, r.output
