"""The audit chain is keyed and checkpointed outside the database (issue 22, finding 5):
deleting the newest rows, or rewriting history with the project's own hash, fails
`reminders audit verify`, on SQLite and PostgreSQL; the application's role may only
INSERT and SELECT the table on PostgreSQL."""

from __future__ import annotations

import importlib
import json

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import ProgrammingError

from reminders.adapters.db.orm import audit_log
from reminders.domain.staff.accounts import AuditEntry
from reminders.domain.staff.audit_chain import GENESIS, row_hash
from reminders.entrypoints.cli.main import main


@pytest.fixture
def cli(cli_runner):
    return cli_runner


def write_rows(container, n: int) -> None:
    for i in range(n):
        with container.uow() as uow:
            uow.audit.add(
                AuditEntry(at=container.clock(), actor="nurse.kim", action="read", detail=f"p{i}")
            )
            uow.commit()


def test_the_app_writes_checkpoints_by_itself(container):
    write_rows(container, 3)
    lines = container.audit_seal.path.read_text().splitlines()
    assert lines and json.loads(lines[0])["id"] == 1  # the first commit of a process


def test_deleting_the_newest_rows_is_found(cli, container, engine):
    write_rows(container, 40)
    assert cli.invoke(main, ["audit", "checkpoint"]).exit_code == 0
    assert cli.invoke(main, ["audit", "verify"]).exit_code == 0
    with engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.id > 10))
    r = cli.invoke(main, ["audit", "verify"])
    assert r.exit_code == 1 and "row 40" in r.output and "is gone" in r.output


def test_history_recomputed_with_the_projects_own_hash_is_found(cli, container, engine):
    write_rows(container, 6)
    with engine.begin() as conn:
        rows = conn.execute(select(audit_log).order_by(audit_log.c.id)).all()
        prev = GENESIS
        for r in rows:  # every row rewritten, every link recomputed: a valid unkeyed chain
            detail = "nothing to see" if r.id == 3 else r.detail
            digest = row_hash(
                prev_hash=prev,
                id=r.id,
                at=r.at,
                actor=r.actor,
                action=r.action,
                detail=detail,
                enrollment_id=r.enrollment_id,
                client_addr=r.client_addr,
            )
            conn.execute(
                update(audit_log)
                .where(audit_log.c.id == r.id)
                .values(detail=detail, prev_hash=prev, row_hash=digest)
            )
            prev = digest
    r = cli.invoke(main, ["audit", "verify"])
    assert r.exit_code == 1 and "BROKEN" in r.output


def test_an_edited_checkpoint_file_is_found(cli, container):
    write_rows(container, 3)
    path = container.audit_seal.path
    first = json.loads(path.read_text().splitlines()[0])
    path.write_text(json.dumps({**first, "id": 2}) + "\n")
    r = cli.invoke(main, ["audit", "verify"])
    assert r.exit_code == 1 and "not signed with the audit key" in r.output


def test_the_app_role_may_only_insert_and_select_the_audit_log(container, engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("roles and grants are PostgreSQL's; SQLite is one file, one user")
    migration = importlib.import_module(
        "reminders.adapters.db.migrations.versions.0015_security_v3"
    )
    write_rows(container, 1)
    with engine.begin() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = 'reminders_app'"))
        if not exists:
            conn.execute(text("CREATE ROLE reminders_app NOLOGIN"))
    with engine.begin() as conn:  # what docs/security.md tells the DBA, then the migration
        conn.execute(
            text(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO reminders_app"
            )
        )
        conn.execute(text(migration.GRANTS))
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL ROLE reminders_app"))
        assert conn.scalar(select(audit_log.c.actor).where(audit_log.c.id == 1)) == "nurse.kim"
        conn.execute(
            audit_log.insert().values(
                id=2,
                at=container.clock(),
                actor="x",
                action="read",
                detail="d",
                prev_hash=GENESIS,
                row_hash=GENESIS,
            )
        )
    for statement in (
        update(audit_log).values(detail="changed"),
        delete(audit_log),
        text("TRUNCATE audit_log"),
    ):
        denied = pytest.raises(ProgrammingError, match="permission denied")
        with engine.connect() as conn, denied, conn.begin():
            conn.execute(text("SET LOCAL ROLE reminders_app"))
            conn.execute(statement)
