"""Staff pages (server-rendered): enroll with inline errors, timeline, actions, search, audit."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from webtools import add_staff, client, errors_on, login, post_form

from reminders.adapters.orm import scheduled_messages
from reminders.domain.accounts import Role

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


@pytest.fixture
def staff(container):
    add_staff(container, "nurse.kim", Role.ADMIN)
    c = client(container)
    login(c)
    return c


def enroll(staff, **change):
    r = post_form(
        staff, "/staff/enroll", "/staff/enroll", {**FORM, **change}, follow_redirects=False
    )
    assert r.status_code == 303, errors_on(r.text)
    return int(r.headers["location"].rsplit("/", 1)[1])


def test_the_form_defaults_to_the_clinic_zone(staff):
    page = staff.get("/staff/enroll")
    assert 'value="America/Los_Angeles"' in page.text
    assert 'value="2026-03-07T23:30"' in page.text  # now, in the clinic's zone


def test_enroll_shows_the_timeline(staff):
    enrollment_id = enroll(staff)
    page = staff.get(f"/staff/patients/{enrollment_id}")
    assert "Enrolled Ana Lopez." in page.text
    assert page.text.count('class="entry') >= 5
    assert "Day 1 · Sunday March 8" in page.text  # after a late procedure, the next morning
    assert 'data-channel="sms"' in page.text and 'data-channel="email"' in page.text
    listing = staff.get("/staff/patients?q=lopez 0142")
    assert f"/staff/patients/{enrollment_id}" in listing.text
    assert "No patient matches" in staff.get("/staff/patients?q=nobody").text


def test_every_bad_field_is_shown_at_once_and_values_are_kept(staff, engine):
    r = post_form(
        staff,
        "/staff/enroll",
        "/staff/enroll",
        {
            **FORM,
            "first_name": "",
            "phone": "555",
            "email": "ana@",
            "timezone": "Mars/Base",
            "levels": "two",
        },
    )
    assert r.status_code == 422
    errors = errors_on(r.text)
    assert set(errors) >= {"first_name", "phone", "email", "timezone", "levels"}
    assert "not a valid phone number" in errors["phone"]
    assert 'value="Lopez"' in r.text  # what was typed stays
    with engine.connect() as conn:
        assert conn.execute(select(scheduled_messages)).first() is None


def test_no_consent_is_explained(staff):
    form = {k: v for k, v in FORM.items() if not k.startswith("consent_")}
    r = post_form(staff, "/staff/enroll", "/staff/enroll", form)
    assert "consent" in errors_on(r.text)


def test_double_submit_enrolls_once(staff):
    first = enroll(staff)
    assert enroll(staff) == first
    assert "already enrolled" in staff.get(f"/staff/patients/{first}").text


def test_cancel_reschedule_and_preferences(staff, container):
    eid = enroll(staff)
    page = f"/staff/patients/{eid}"
    container.clock.advance(minutes=30)
    r = post_form(staff, page, f"{page}/reschedule", {"performed_at": "2026-03-07T22:45"})
    assert "Procedure time corrected" in r.text and "revision 2" in r.text
    r = post_form(staff, page, f"{page}/preferences", {"consent_sms": "on", "language": "es"})
    assert "Español" in r.text and "Email: withdrawn" in r.text
    bad = post_form(staff, page, f"{page}/reschedule", {"performed_at": "2026-03-20T10:00"})
    assert bad.status_code == 422 and "future" in errors_on(bad.text)["performed_at"]
    none = post_form(staff, page, f"{page}/preferences", {"language": "es"})
    assert none.status_code == 422 and "at least one channel" in errors_on(none.text)["channels"]
    careless = post_form(staff, page, f"{page}/cancel", {"reason": " "})
    assert careless.status_code == 422 and "why the messages should stop" in careless.text
    assert 'id="enrollment-status">active' in careless.text  # a mis-tap stops nothing
    r = post_form(staff, page, f"{page}/cancel", {"reason": "patient asked"})
    assert 'id="enrollment-status">cancelled' in r.text
    assert "cancelled: patient asked" in r.text.lower()  # the history at the bottom
    assert 'data-status="scheduled"' not in r.text


def test_a_cancelled_enrollment_can_be_restarted_from_now(staff, container, engine):
    eid = enroll(staff)
    page = f"/staff/patients/{eid}"
    post_form(staff, page, f"{page}/cancel", {"reason": "wrong patient chart"})
    again = post_form(staff, "/staff/enroll", "/staff/enroll", FORM)
    assert "messages were cancelled" in again.text and "Restart messages" in again.text
    container.clock.advance(days=2)
    r = post_form(staff, page, f"{page}/restart", {})
    assert 'id="enrollment-status">active' in r.text and "Messages restarted" in r.text
    with engine.connect() as conn:
        rows = conn.execute(
            select(scheduled_messages).where(
                scheduled_messages.c.enrollment_id == eid,
                scheduled_messages.c.status == "scheduled",
            )
        ).all()
    assert rows, "upcoming messages are planned again"
    assert all(r.send_at >= container.clock() for r in rows), "nothing from the past is sent"


def test_resend_a_failed_message(staff, container, engine):
    eid = enroll(staff)
    with engine.begin() as conn:
        failed = conn.execute(
            select(scheduled_messages.c.id)
            .where(
                scheduled_messages.c.channel == "email", scheduled_messages.c.status == "scheduled"
            )
            .order_by(scheduled_messages.c.send_at)
        ).first()[0]
        conn.execute(
            scheduled_messages.update()
            .where(scheduled_messages.c.id == failed)
            .values(status="failed", error_code="550", error_message="mailbox full")
        )
    page = f"/staff/patients/{eid}"
    assert f"/messages/{failed}/resend" in staff.get(page).text
    r = post_form(staff, page, f"{page}/messages/{failed}/resend", {})
    assert "will be sent again" in r.text
    with engine.connect() as conn:
        old = conn.execute(
            select(scheduled_messages).where(scheduled_messages.c.id == failed)
        ).one()
        again = conn.execute(
            select(scheduled_messages).where(scheduled_messages.c.resend_of == failed)
        ).one()
    assert old.status == "failed" and again.status == "scheduled"
    assert (again.kind, again.parts, again.channel) == ("resend", old.parts, "email")
    # a scheduled message cannot be "resent", and the failed one only once
    r = post_form(staff, page, f"{page}/messages/{again.id}/resend", {})
    assert r.status_code == 422 and "only a failed" in r.text
    r = post_form(staff, page, f"{page}/messages/{failed}/resend", {})
    assert r.status_code == 422 and "already sent again" in r.text


def test_a_failed_message_past_its_deadline_is_not_resent(staff, container, engine):
    eid = enroll(staff)
    with engine.begin() as conn:
        first = conn.execute(
            select(scheduled_messages)
            .where(scheduled_messages.c.status == "scheduled")
            .order_by(scheduled_messages.c.send_at)
        ).first()
        conn.execute(
            scheduled_messages.update()
            .where(scheduled_messages.c.id == first.id)
            .values(status="failed")
        )
    container.clock.now = first.deadline + timedelta(minutes=1)
    page = f"/staff/patients/{eid}"
    r = post_form(staff, page, f"{page}/messages/{first.id}/resend", {})
    assert r.status_code == 422 and "past its deadline" in r.text


def test_the_audit_log_says_who_did_what(staff):
    eid = enroll(staff)
    page = f"/staff/patients/{eid}"
    post_form(staff, page, f"{page}/cancel", {"reason": "readmitted"})
    log = staff.get("/staff/audit").text
    rows = re.findall(
        r'<td data-label="Who">([^<]+)</td>\s*<td data-label="What">([^<]+)</td>', log
    )
    assert any(
        who == "nurse.kim" and what.startswith("Cancelled: readmitted") for who, what in rows
    )
    assert any(what.startswith("Enrolled: Ana Lopez") for _, what in rows)
    assert any(what.startswith("Login") for _, what in rows)
    # The clinic's time, its zone named, UTC on hover.
    assert re.search(r'title="UTC: 2026-03-0\d \d\d:\d\d:\d\d UTC">Mar \d+, 2026 .* PST<', log)
    only = staff.get("/staff/audit", params={"action": "cancelled", "patient": f"#{eid}"}).text
    assert "readmitted" in only and "Enrolled: Ana" not in only
    none = staff.get("/staff/audit", params={"day_from": "2026-03-09"}).text
    assert "Nothing recorded with these filters." in none


def test_the_audit_log_pages(staff, container):
    from reminders.services import audit

    with container.uow() as uow:
        for i in range(120):
            audit.record(
                uow, actor="bot", action="test_entry", detail=f"entry {i}", now=container.clock()
            )
        uow.commit()
    first = staff.get("/staff/audit", params={"actor": "bot"}).text
    assert first.count('data-label="Who">bot<') == 50 and "Page 1 of 2" in first
    assert "actor=bot&amp;page=2" in first
    third = staff.get("/staff/audit", params={"actor": "bot", "page": 3}).text
    assert third.count('data-label="Who">bot<') == 20 and "Next page" not in third


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


def test_an_unknown_patient_is_a_clear_404(staff):
    r = staff.get("/staff/patients/424242")
    assert r.status_code == 404 and "no enrollment 424242" in r.text


def test_letters_in_a_phone_and_a_time_skipped_by_the_clock_change(staff, engine):
    r = post_form(
        staff,
        "/staff/enroll",
        "/staff/enroll",
        {**FORM, "phone": "805-CALL-NOW", "performed_at": "2026-03-08T02:30"},
    )
    assert r.status_code == 422
    errors = errors_on(r.text)
    assert "contains letters" in errors["phone"]
    assert "did not happen in America/Los_Angeles" in errors["performed_at"]
    assert 'value="805-CALL-NOW"' in r.text  # what was typed stays, to be corrected
    with engine.connect() as conn:
        assert conn.execute(select(scheduled_messages)).first() is None
