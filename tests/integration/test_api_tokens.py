"""API tokens: each route checks its scope, tokens expire, old tokens keep every scope."""

from __future__ import annotations

from datetime import timedelta

from alembic import command
from click.testing import CliRunner
from sqlalchemy import func, select, text
from test_api import ANA
from test_fhir import PROCEDURE
from webtools import client, token

from reminders.adapters.db.migrate import alembic_config, upgrade
from reminders.adapters.db.orm import enrollments
from reminders.domain.staff.accounts import ALL_SCOPES, Scope
from reminders.entrypoints.cli.main import main
from reminders.services.staff import api_tokens


def count(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(enrollments)) or 0)


def test_each_route_checks_its_scope(container, engine):
    c = client(container)
    enroller = token(container, "epic", scopes=[Scope.ENROLL])
    reader = token(container, "dashboard", scopes=[Scope.READ])
    ehr = token(container, "fhir-feed", scopes=[Scope.FHIR])
    scraper = token(container, "prometheus", scopes=[Scope.METRICS])

    created = c.post("/api/v1/enrollments", json=ANA, headers=enroller)
    assert created.status_code == 201
    eid = created.json()["id"]
    refused = c.get(f"/api/v1/enrollments/{eid}", headers=enroller)
    assert refused.status_code == 403
    assert "lacks the `read` scope (it has: enroll)" in refused.json()["detail"]
    assert c.get(f"/api/v1/enrollments/{eid}", headers=reader).status_code == 200

    for who in (reader, ehr, scraper):
        assert c.post(f"/api/v1/enrollments/{eid}/cancel", headers=who).status_code == 403
        assert c.patch(f"/api/v1/enrollments/{eid}", json={}, headers=who).status_code == 403
        assert c.post("/api/v1/enrollments", json={**ANA, "external_id": "X"}, headers=who).status_code == 403  # fmt: skip
    assert count(engine) == 1

    assert c.post("/fhir/Procedure", json=PROCEDURE, headers=enroller).status_code == 403
    assert c.post("/fhir/Procedure", json=PROCEDURE, headers=ehr).status_code == 201

    assert c.get("/metrics", headers=scraper).status_code == 200  # a metrics-only token
    assert c.get("/metrics", headers=enroller).status_code == 403
    assert c.get(f"/api/v1/enrollments/{eid}", headers=scraper).status_code == 403
    assert c.post(f"/api/v1/enrollments/{eid}/cancel", headers=enroller).status_code == 200


def test_a_token_stops_working_at_its_expiry(container):
    now = container.clock()
    _, raw = api_tokens.create_api_token(
        uow=container.uow(), name="pilot", by="test", now=now, expires_at=now + timedelta(days=90)
    )
    headers = {"Authorization": f"Bearer {raw}"}
    c = client(container)
    assert c.get("/api/v1/enrollments/9", headers=headers).status_code == 404  # accepted
    container.clock.advance(days=90)
    r = c.get("/api/v1/enrollments/9", headers=headers)
    assert r.status_code == 401


def test_cli_creates_a_scoped_expiring_token(container, monkeypatch):
    monkeypatch.setattr("reminders.entrypoints.cli.staff.container", lambda: container)
    runner = CliRunner()
    r = runner.invoke(
        main,
        ["token", "create", "epic", "--scope", "enroll", "--scope", "read", "--expires", "90d"],
    )
    assert r.exit_code == 0, r.output
    assert "(enroll read, expires 2026-" in r.stderr
    raw = r.stdout.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {raw}"}
    c = client(container)
    assert c.get("/api/v1/enrollments/9", headers=headers).status_code == 404
    assert c.get("/metrics", headers=headers).status_code == 403
    listing = runner.invoke(main, ["token", "list"])
    assert "enroll read" in listing.output and "until 2026-" in listing.output
    bad = runner.invoke(main, ["token", "create", "x1", "--expires", "soon"])
    assert bad.exit_code == 2 and "use 90d, 12w, 36h or 2027-01-31" in bad.output
    unknown = runner.invoke(main, ["token", "create", "x2", "--scope", "admin"])
    assert unknown.exit_code == 2 and "enroll" in unknown.output
    assert "Traceback" not in bad.output + unknown.output
    assert runner.invoke(main, ["token", "revoke", "epic"]).output == "Token epic revoked.\n"
    assert c.get("/api/v1/enrollments/9", headers=headers).status_code == 401
    again = runner.invoke(main, ["token", "revoke", "epic"])
    assert again.exit_code == 0 and "already revoked; nothing changed" in again.output


def test_tokens_made_before_scopes_keep_every_scope(engine, container):
    with engine.begin() as conn:
        config = alembic_config(engine)
        config.attributes["connection"] = conn
        command.downgrade(config, "0005")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO api_tokens (name, token_hash, prefix, created_by, created_at)"
                " VALUES ('legacy', :h, 'rr_abcde', 'cli', :at)"
            ),
            {"h": api_tokens.token_hash("rr_legacy-secret"), "at": container.clock()},
        )
    upgrade(engine)
    legacy = api_tokens.token_for(
        uow=container.uow(), raw="rr_legacy-secret", now=container.clock()
    )
    assert legacy is not None and legacy.scopes == ALL_SCOPES and legacy.expires_at is None
