"""Staff enrollment form (web/enroll.py): defaults, every wrong field inline at once, enroll once."""

from __future__ import annotations

from sqlalchemy import select
from webtools import FORM, enroll_by_form, errors_on, post_form

from reminders.adapters.db.orm import scheduled_messages


def test_the_form_defaults_to_the_clinic_zone(staff):
    page = staff.get("/staff/enroll")
    assert 'value="America/Los_Angeles"' in page.text
    assert 'value="2026-03-07T23:30"' in page.text  # now, in the clinic's zone


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
    first = enroll_by_form(staff)
    assert enroll_by_form(staff) == first
    assert "already enrolled" in staff.get(f"/staff/patients/{first}").text


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
