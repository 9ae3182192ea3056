"""Security headers on every answer, no inline script, Swagger UI from the app, Bearer-only API."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sqlalchemy import func, select
from test_api import ANA
from test_fhir import PROCEDURE
from webtools import add_staff, client, login, token

from reminders.adapters.db.orm import enrollments
from reminders.domain.staff.accounts import Role
from reminders.entrypoints.web.security_headers import CSP
from reminders.settings import ROOT


def _enrollment_status(engine, enrollment_id: int) -> str:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return str(
            conn.scalar(select(enrollments.c.status).where(enrollments.c.id == enrollment_id))
        )


def test_every_answer_carries_the_headers_and_patient_pages_are_not_stored(container):
    add_staff(container, "admin.ray", role=Role.ADMIN)
    c = client(container)
    login(c, "admin.ray")
    api = token(container)
    enrolled = c.post("/api/v1/enrollments", json=ANA, headers=api).json()["id"]
    pages = ["/staff/patients", f"/staff/patients/{enrolled}", "/staff/enroll", "/staff/audit"]
    answers = {p: c.get(p) for p in [*pages, "/staff/login", "/healthz"]}
    answers["api"] = c.get(f"/api/v1/enrollments/{enrolled}", headers=api)
    answers["fhir"] = c.post("/fhir/Procedure", json=PROCEDURE, headers=api)
    answers["404"] = c.get("/staff/nothing-here")
    for where, r in answers.items():
        assert r.status_code < 500, (where, r.status_code)
        h = r.headers
        assert h["content-security-policy"] == CSP, where
        assert "script-src 'self';" in CSP and "frame-ancestors 'none'" in CSP
        assert h["x-frame-options"] == "DENY" and h["referrer-policy"] == "no-referrer"
        assert h["x-content-type-options"] == "nosniff"
        assert "strict-transport-security" not in h  # development: no HSTS on plain http
        if where != "/healthz":
            assert h["cache-control"] == "no-store", where


def test_production_adds_hsts(container):
    container.settings = container.settings.model_copy(update={"environment": "production"})
    r = client(container).get("/healthz")
    assert r.headers["strict-transport-security"].startswith("max-age=31536000")


def test_no_staff_page_has_inline_script_or_event_handlers():
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=", re.I)
    for page in sorted(Path(ROOT / "templates" / "staff").glob("*.html")):
        assert not inline.search(page.read_text()), page.name


def test_api_docs_work_offline_from_the_package(container):
    c = client(container)
    assert c.get("/docs").status_code == 401
    page = c.get("/docs", headers=token(container))
    assert page.status_code == 200
    assert not re.search(r"(src|href)=\"(https?:)?//", page.text)  # nothing from a CDN
    assert "<script>" not in page.text  # only <script src=...>: the CSP allows no inline
    for src in re.findall(r'(?:src|href)="(/docs/assets/[^"]+)"', page.text):
        asset = c.get(src)
        assert asset.status_code == 200 and len(asset.content) > 20, src
    js = c.get("/docs/assets/swagger-ui-bundle.js")
    assert (
        js.headers["content-type"].startswith("text/javascript")
        or "javascript" in js.headers["content-type"]
    )
    assert c.get("/docs/assets/..%2F..%2F__init__.py").status_code == 404


def test_a_staff_cookie_alone_cannot_use_the_api_or_fhir(container, engine):
    add_staff(container)
    c = client(container)
    enrolled = c.post("/api/v1/enrollments", json=ANA, headers=token(container)).json()["id"]
    login(c)
    assert c.get("/staff/patients").status_code == 200  # the cookie is a good one
    r = c.post(f"/api/v1/enrollments/{enrolled}/cancel")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert _enrollment_status(engine, enrolled) == "active"
    assert c.get(f"/api/v1/enrollments/{enrolled}").status_code == 401
    assert c.post("/fhir/Procedure", json=PROCEDURE).status_code == 401
    assert c.get("/metrics").status_code == 401


def test_fhir_takes_only_json_bodies(container, engine):
    c = client(container)
    r = c.post(
        "/fhir/Procedure",
        content=json.dumps(PROCEDURE),
        headers={**token(container), "Content-Type": "text/plain"},
    )
    assert r.status_code == 415
    assert r.json()["issue"][0]["code"] == "not-supported"
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(enrollments)) == 0
