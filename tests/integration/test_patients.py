"""Staff patient pages (web/patients.py): list and search, timeline, cancel, reschedule, restart, resend."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from webtools import FORM, enroll_by_form, errors_on, login, post_form

from reminders.adapters.db.orm import scheduled_messages


def test_enroll_shows_the_timeline(staff):
    enrollment_id = enroll_by_form(staff)
    page = staff.get(f"/staff/patients/{enrollment_id}")
    assert "Enrolled Ana Lopez." in page.text
    assert page.text.count('class="entry') >= 5
    assert "Day 1 · Sunday March 8" in page.text  # after a late procedure, the next morning
    assert 'data-channel="sms"' in page.text and 'data-channel="email"' in page.text
    listing = staff.get("/staff/patients?q=lopez 0142")
    assert f"/staff/patients/{enrollment_id}" in listing.text
    by_phone = staff.get("/staff/patients", params={"q": "+1 805 555 0142"})
    assert f"/staff/patients/{enrollment_id}" in by_phone.text
    assert "No patient matches" in staff.get("/staff/patients?q=nobody").text


def test_cancel_reschedule_and_preferences(staff, container):
    eid = enroll_by_form(staff)
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
    eid = enroll_by_form(staff)
    page = f"/staff/patients/{eid}"
    post_form(staff, page, f"{page}/cancel", {"reason": "wrong patient chart"})
    again = post_form(staff, "/staff/enroll", "/staff/enroll", FORM)
    assert "messages were cancelled" in again.text and "Restart messages" in again.text
    container.clock.advance(days=2)
    login(staff)  # two days on, the session has timed out
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
    eid = enroll_by_form(staff)
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
    eid = enroll_by_form(staff)
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
    login(staff)  # the session timed out meanwhile
    page = f"/staff/patients/{eid}"
    r = post_form(staff, page, f"{page}/messages/{first.id}/resend", {})
    assert r.status_code == 422 and "past its deadline" in r.text


def test_an_unknown_patient_is_a_clear_404(staff):
    r = staff.get("/staff/patients/424242")
    assert r.status_code == 404 and "no enrollment 424242" in r.text


def test_step_titles_are_in_the_staffs_language(staff, container, monkeypatch):
    enrollment_id = enroll_by_form(staff)  # Ana reads English; the staff may not
    english = staff.get(f"/staff/patients/{enrollment_id}").text
    assert "Check-in: pain score, day 1" in english and "Kyphoplasty" in english
    monkeypatch.setattr(container.settings, "staff_language", "es")
    spanish = staff.get(f"/staff/patients/{enrollment_id}").text
    assert "Control: nivel de dolor, día 1" in spanish and "Cifoplastia" in spanish
    assert "Check-in: pain score" not in spanish
    # The step's title is the staff's; what the patient received stays in English.
    assert '<div class="what">Señales de alarma: cuándo llamar</div>' in spanish
    assert '<div class="what">Warning signs: when to call</div>' in english
