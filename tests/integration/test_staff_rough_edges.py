"""What a nurse tripped on in the staff pages (issue 27), each through the pages themselves:
audit addresses, inbox clocks, caregivers found by phone, paging past the end, one-tap
risks, Send again after STOP."""

from __future__ import annotations

import re
from dataclasses import replace

import test_webhooks as shared
from fastapi.testclient import TestClient
from sqlalchemy import select
from test_webhooks import DAY1_CHECKIN, deliver, enroll, text_in
from webtools import ADDR, FORM, add_staff, csrf, enroll_by_form, login, post_form

from reminders.adapters.db.orm import audit_log, escalations
from reminders.entrypoints.web.app import create_app

twilio, smtp, live, web = shared.twilio, shared.smtp, shared.live, shared.web  # fixtures


def audit_rows(engine, action):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(audit_log).where(audit_log.c.action == action)).all()


def test_staff_page_enrollments_and_red_flag_actions_carry_the_client_address(live, engine):
    # A browser at a real address (the shared `web` client's host, "testclient", is none).
    web = TestClient(
        create_app(live),
        base_url="https://testserver",
        raise_server_exceptions=False,
        client=(ADDR, 50000),
    )
    enroll(live)
    deliver(live, DAY1_CHECKIN)
    text_in(web, live, "9")
    with engine.connect() as conn:
        (flag,) = conn.execute(select(escalations.c.id)).all()
    add_staff(live)
    login(web)
    enroll_by_form(web, first_name="Rosa", phone="(805) 555-0177", performed_at="2026-05-04T10:00")
    page = web.get("/staff/inbox").text
    form = {"csrf_token": csrf(page), "note": "called her"}
    web.post(f"/staff/inbox/escalations/{flag.id}/acknowledge", data=form)
    web.post(f"/staff/inbox/escalations/{flag.id}/resolve", data=form)
    for action in ("enrolled", "escalation_acknowledged", "escalation_resolved"):
        rows = [r for r in audit_rows(engine, action) if "via test" not in r.detail]
        assert rows and all(r.client_addr == ADDR for r in rows), action


def test_inbox_lists_use_the_clinic_clock_and_a_patient_page_their_own(live, web, engine):
    ny = replace(shared.ANA, timezone="America/New_York")
    eid = enroll(live, ny)
    deliver(live, DAY1_CHECKIN)
    text_in(web, live, "9")
    add_staff(live)
    login(web)
    inbox = web.get("/staff/inbox").text
    card = inbox[inbox.index('id="escalation-') :]
    card = card[: card.index("</time>")]
    assert re.search(r">\w{3} \d+, \d+:\d\d [AP]M PDT$", card), card  # the clinic's, named
    assert "Times are the clinic's (America/Los Angeles)" in inbox
    mine = web.get(f"/staff/inbox/patients/{eid}").text
    assert re.search(r"\d:\d\d [AP]M EDT</time>", mine)  # the patient's own, named
    assert "Times are the patient's (America/New York)" in mine


def test_a_caregivers_phone_or_name_finds_the_patient(staff):
    eid = enroll_by_form(
        staff,
        caregiver_name="Rosa Lopez",
        caregiver_relationship="daughter",
        caregiver_phone="(805) 555-0199",
        caregiver_sms_consent="on",
    )
    for q in ("555-0199", "8055550199", "rosa"):
        found = staff.get("/staff/patients", params={"q": q}).text
        assert f'href="/staff/patients/{eid}"' in found, q


def test_paging_past_the_end_or_by_a_typo_is_said_plainly(staff):
    for i in range(3):
        enroll_by_form(staff, last_name=f"Number{i}", phone=f"(805) 555-010{i}")
    past = staff.get("/staff/patients", params={"page": "99"})
    assert past.status_code == 200
    assert "No patients enrolled yet" not in past.text
    assert "Page 99 is past the end: 3 patients are enrolled, on 1 page." in past.text
    assert "page=1" in past.text  # a link to the last page
    typo = staff.get("/staff/patients", params={"page": "abc"})
    assert typo.status_code == 200 and typo.text.count('class="link"') == 3
    assert staff.get("/staff/inbox", params={"page": "abc"}).status_code == 200


def test_name_sorts_by_last_name(staff):
    enroll_by_form(staff, first_name="Zoe", last_name="Adams", phone="(805) 555-0101")
    enroll_by_form(staff, first_name="Al", last_name="Young", phone="(805) 555-0102")
    page = staff.get("/staff/patients", params={"sort": "name"}).text
    table = page[page.index('id="patients"') :]  # not the flash of the last enrollment
    assert table.index("Zoe Adams") < table.index("Al Young")


def test_change_an_account_starts_with_nothing_chosen_and_no_id_twice(staff):
    page = staff.get("/staff/users").text
    manage = page[page.index('action="/staff/users/manage"') :]
    manage = manage[: manage.index("</form>")]
    for name in ("username", "action"):
        field = manage[manage.index(f'name="{name}"') :]
        first = re.search(r"<option ([^>]*)>", field)
        assert first and 'value=""' in first.group(1) and "selected" in first.group(1), name
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    r = post_form(staff, "/staff/users", "/staff/users/manage", {"username": "", "action": ""})
    assert r.status_code == 422 and 'id="manage-error"' in r.text
    assert "Last sign-in (UTC)" not in page


def test_removing_a_caregiver_asks_first(staff, engine):
    eid = enroll_by_form(
        staff, caregiver_name="Rosa", caregiver_phone="(805) 555-0199", caregiver_sms_consent="on"
    )
    url = f"/staff/patients/{eid}"
    asked = post_form(staff, url, f"{url}/caregiver/remove", {})
    assert asked.status_code == 200 and "Remove Rosa?" in asked.text
    assert 'id="caregiver-name">Rosa<' in staff.get(url).text  # still there
    done = post_form(staff, url, f"{url}/caregiver/remove", {"confirm": "yes"})
    assert "Caregiver removed" in done.text and 'id="no-caregiver"' in done.text


def test_enrolling_a_phone_another_active_enrollment_has_warns(staff):
    first = enroll_by_form(staff, first_name="Ana", phone="(805) 555-0142")
    page = post_form(
        staff, "/staff/enroll", "/staff/enroll", {**FORM, "first_name": "Luis", "external_id": "x"}
    ).text
    assert "Check the phone number" in page and f"Ana Lopez (#{first})" in page
    other = post_form(
        staff,
        "/staff/enroll",
        "/staff/enroll",
        {**FORM, "first_name": "Eva", "phone": "(805) 555-0143", "external_id": "y"},
    ).text
    assert "Enrolled Eva Lopez." in other and "Check the phone number" not in other


def test_the_patient_page_speaks_a_nurses_words(live, web, engine):
    eid = enroll(live)  # written consent to email, verbal to texts
    deliver(live, DAY1_CHECKIN)
    text_in(web, live, "not sure")  # unclear: asked once more
    text_in(web, live, "what?")  # still unclear: for staff
    text_in(web, live, "thanks, see you")
    add_staff(live)
    login(web)
    page = web.get(f"/staff/patients/{eid}").text
    assert "writtenly" not in page and "verbally" in page
    assert "pain_warning" not in page and "pain and warning signs" in page
    assert ">Unmatched" not in page
    assert "(805) 555-0142</a>" in page and 'href="tel:+18055550142"' in page
    assert "stale:" not in page
    moved = {"performed_at": "2026-05-04T06:30"}  # half an hour earlier: every unsent re-planned
    post_form(web, f"/staff/patients/{eid}", f"/staff/patients/{eid}/reschedule", moved)
    history = web.get(f"/staff/patients/{eid}", params={"history": "1"}).text
    assert "re-planned by nurse.kim" in history
    shown = re.sub(r'(datetime|title)="[^"]*"', "", history)  # what is read, not attributes
    assert "+00:00" not in shown  # the notes' times are the patient's, not raw UTC
