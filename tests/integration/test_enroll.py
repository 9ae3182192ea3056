"""Staff enrollment form (web/enroll.py): defaults, every wrong field inline at once, enroll once."""

from __future__ import annotations

import re
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from webtools import FORM, enroll_by_form, errors_on, post_form

from reminders.adapters.db.orm import enrollments, scheduled_messages


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


def _prefilled(staff) -> dict[str, str]:
    """The enroll form's pre-filled fields, as a browser would post them back."""
    page = staff.get("/staff/enroll").text
    return {
        name: re.search(rf'name="{name}" value="([^"]*)"', page).group(1)  # type: ignore[union-attr]
        for name in ("performed_at", "performed_at_default", "performed_at_zone")
    }


@pytest.mark.parametrize("zone", ["Pacific/Honolulu", "America/New_York"])
def test_the_default_time_left_alone_is_now_in_any_patient_zone(staff, engine, clock, zone):
    form = {**FORM, **_prefilled(staff), "timezone": zone}
    eid = enroll_by_form(staff, **form)
    with engine.connect() as conn:
        stored = conn.scalar(select(enrollments.c.performed_at).where(enrollments.c.id == eid))
    assert stored.replace(tzinfo=UTC) == clock().replace(second=0, microsecond=0)


def test_a_time_typed_by_hand_is_the_patients_wall_time(staff, engine, clock):
    form = {**FORM, **_prefilled(staff), "timezone": "America/New_York"}
    earlier = (clock() - timedelta(hours=2)).replace(second=0, microsecond=0)
    typed = earlier.astimezone(ZoneInfo("America/New_York")).strftime("%Y-%m-%dT%H:%M")
    eid = enroll_by_form(staff, **{**form, "performed_at": typed})
    with engine.connect() as conn:
        stored = conn.scalar(select(enrollments.c.performed_at).where(enrollments.c.id == eid))
    assert stored.replace(tzinfo=UTC) == earlier


def test_zone_entry_accepts_the_pages_spelling_and_suggests_or_refuses(staff):
    assert enroll_by_form(staff, timezone="America/New York")
    said = {}
    for typed in ("America/New_Yrok", "Eastern", "EST"):
        r = post_form(staff, "/staff/enroll", "/staff/enroll", {**FORM, "timezone": typed})
        said[typed] = errors_on(r.text)["timezone"]
    assert "did you mean America/New_York?" in said["America/New_Yrok"]
    assert "did you mean America/New_York?" in said["Eastern"]
    assert "without summer time" in said["EST"] and "America/New_York" in said["EST"]
    page = staff.get("/staff/enroll").text
    assert '<option value="Pacific/Honolulu" label="Honolulu, United States">' in page
