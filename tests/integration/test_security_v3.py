"""Issue 22's smaller findings through the app, on SQLite and PostgreSQL: a 500's headers, bad
filters and deep JSON, chunked webhook bodies, the session cookie, idle logoff while a page
polls, `next=` and the audit log without search text, client addresses."""

from __future__ import annotations

from sqlalchemy import select
from webtools import add_staff, client, login

from reminders.adapters.db.orm import audit_log
from reminders.domain.staff.accounts import Role
from reminders.entrypoints.web.app import create_app

DEEP = ("[" * 1000 + "]" * 1000).encode()


def test_a_crash_still_carries_the_security_headers(container):
    app = create_app(container)

    def boom() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/staff/boom", boom)
    app.add_api_route("/api/v1/boom", boom)
    from fastapi.testclient import TestClient

    c = TestClient(app, raise_server_exceptions=False)
    for path in ("/staff/boom", "/api/v1/boom"):
        r = c.get(path)
        assert r.status_code == 500
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"


def test_odd_filters_and_deep_json_are_4xx_not_500(staff, container):
    for patient in ("²", "١٢", "𝟗", "#²"):
        assert staff.get("/staff/audit", params={"patient": patient}).status_code == 200
    api = client(container)
    from webtools import token

    api.headers.update(token(container))
    headers = {"content-type": "application/json"}
    r = api.post("/api/v1/enrollments", content=DEEP, headers=headers)
    assert r.status_code == 400
    r = api.post("/fhir/Procedure", content=DEEP, headers={"content-type": "application/fhir+json"})
    assert 400 <= r.status_code < 500


def test_a_chunked_webhook_body_meets_the_64_kib_cap(live):
    c = client(live)  # Twilio configured: the webhook reads the body

    def chunks():
        for _ in range(80):
            yield b"x" * 1024

    for path in ("/webhooks/twilio/inbound", "/webhooks/twilio/status"):
        r = c.post(
            path,
            content=chunks(),
            headers={
                "content-type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": "x",
            },
        )
        assert r.status_code == 413, path


def test_the_session_cookie_ends_with_the_browser(container):
    add_staff(container)
    c = client(container)
    page = c.get("/staff/login")
    cookie = page.headers["set-cookie"]
    assert "reminders_session=" in cookie and "max-age" not in cookie.lower()
    assert "expires" not in cookie.lower()


def test_a_polling_page_is_signed_out_when_idle(container):
    add_staff(container)
    c = client(container)
    login(c)
    background = {"X-Background-Refresh": "1"}
    for _ in range(16):  # 32 minutes of the inbox count polled, nobody at the page
        container.clock.advance(minutes=2)
        r = c.get("/staff/inbox/count", headers=background, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/staff/login")
    assert c.get("/staff/patients", follow_redirects=False).status_code == 303


def test_a_page_used_by_a_person_stays_signed_in(container):
    add_staff(container)
    c = client(container)
    login(c)
    for _ in range(16):
        container.clock.advance(minutes=2)
        assert c.get("/staff/patients", follow_redirects=False).status_code == 200
    page = c.get("/staff/patients")
    assert 'id="idle-notice"' in page.text and 'data-idle-seconds="1800"' in page.text


def test_search_text_stays_out_of_the_log_and_next(container, engine):
    add_staff(container, "nurse.kim", Role.ADMIN)
    c = client(container)
    r = c.get("/staff/patients", params={"q": "Lopez 805-555-0142"}, follow_redirects=False)
    assert r.status_code == 303 and "Lopez" not in r.headers["location"]
    assert "555" not in r.headers["location"]
    login(c)
    c.get("/staff/patients", params={"q": "Lopez 805-555-0142"})
    with engine.connect() as conn:
        details = list(conn.scalars(select(audit_log.c.detail)))
    assert details and not any("Lopez" in d or "555" in d for d in details)


def test_only_a_real_address_is_kept(container, engine):
    add_staff(container)
    for typed in ("10.1.1.1 (nurse station 3)", "<script>", "::ffff:192.0.2.7"):
        c = client(container, typed)
        login(c)
    with engine.connect() as conn:
        addrs = set(
            conn.scalars(select(audit_log.c.client_addr).where(audit_log.c.action == "login"))
        )
    assert addrs == {None, "192.0.2.7"}


def test_a_name_with_markup_is_refused_at_every_door_not_texted(container, engine):
    from test_api import ANA
    from webtools import token

    from reminders.adapters.db.orm import scheduled_messages

    api = client(container)
    api.headers.update(token(container))
    r = api.post("/api/v1/enrollments", json={**ANA, "first_name": 'Rosa "><img src=x>'})
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["first_name"]
    caregiver = {
        "name": "Rosa see www.prize.example",
        "phone": "(805) 555-0199",
        "sms_consent": True,
    }
    r = api.post("/api/v1/enrollments", json={**ANA, "caregiver": caregiver})
    assert r.status_code == 422 and r.json()["errors"][0]["field"].startswith("caregiver")
    with engine.connect() as conn:
        assert conn.scalar(select(scheduled_messages.c.id)) is None
