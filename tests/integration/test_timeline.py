"""The patient page as a care journey (services/staff/timeline.py): what was sent, answered,
failed and stopped, in the patient's time, and acting on a red flag from there."""

from __future__ import annotations

import re

import test_webhooks as shared
from webtools import add_staff, enroll_by_form, login, post_form

twilio, smtp, live, web = shared.twilio, shared.smtp, shared.live, shared.web  # fixtures
enroll = enroll_by_form  # the signed-in admin client is the `staff` fixture


def test_the_journey_shows_what_was_sent_answered_failed_and_stopped(live, web, engine, twilio):
    eid = shared.enroll(live)
    shared.deliver(live, shared.DAY0_TEXT)
    first, first_row = shared.sent_text(engine, twilio)
    shared.status_in(web, live, first["sid"], "undelivered", "30003")
    shared.deliver(live, shared.DAY1_CHECKIN)
    checkin, checkin_row = shared.sent_text(engine, twilio)
    shared.text_in(web, live, "9")  # pain 9 of 10: a red flag
    add_staff(live)
    login(web)
    page = web.get(f"/staff/patients/{eid}").text

    assert 'id="banner-red-flag"' in page  # the open red flag, at the top
    entry = page[page.index(f'id="m-{checkin_row.id}"') :]
    entry = entry[: entry.index("</li>")]
    assert "Check-in: pain score, day 1" in entry  # the plan's words, not the step key
    assert "The patient answered:</strong> “9”" in entry and "Red flag" in entry
    assert checkin["body"] in entry  # the text exactly as the patient received it
    assert "<details" in entry
    failed = page[page.index(f'id="m-{first_row.id}"') :]
    failed = failed[: failed.index("</li>")]
    assert "unreachable" in failed and failed.count("30003") == 1  # said once
    assert "checkin_pain_day1" not in page and "first_text_same_day" not in page
    assert 'id="now"' in page and 'class="strip"' in page
    assert re.search(r"\d:\d\d [AP]M PDT", page)  # the patient's time, zone named
    assert 'title="Clinic time:' in page

    # The nurse acts on the red flag from the patient page and stays there.
    (flag,) = re.findall(r"/staff/inbox/escalations/(\d+)/resolve", page)
    form = {"back": f"/staff/patients/{eid}", "note": ""}
    r = post_form(web, f"/staff/patients/{eid}", f"/staff/inbox/escalations/{flag}/resolve", form)
    assert r.url.path == f"/staff/patients/{eid}" and r.text.count("write what was done") == 1
    form["note"] = "Called; pain controlled with the medicine she has."
    r = post_form(web, f"/staff/patients/{eid}", f"/staff/inbox/escalations/{flag}/resolve", form)
    assert r.url.path == f"/staff/patients/{eid}" and 'id="banner-red-flag"' not in r.text
    evil = {"back": "https://evil.example/", "note": "x"}
    r = post_form(web, f"/staff/patients/{eid}", f"/staff/inbox/escalations/{flag}/resolve", evil)
    assert r.url.path == "/staff/inbox"  # never sent anywhere but our own pages

    shared.text_in(web, live, "STOP")
    page = web.get(f"/staff/patients/{eid}").text
    assert 'id="banner-opted-out"' in page and "Emails still go out." in page
    status = page[page.index('id="enrollment-status">') :][:80]
    assert ">active<" not in status and "texts stopped" in status
    assert "Texts: <strong>opted out</strong>" in page


def test_history_shows_times_not_stored_values(staff):
    eid = enroll(staff)
    page = f"/staff/patients/{eid}"
    post_form(staff, page, f"{page}/reschedule", {"performed_at": "2026-03-07T22:00"})
    history = staff.get(page).text.split("<h2>History</h2>")[1]
    history = re.sub(r"<[^>]+>", "", history)  # what staff read, not the markup
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", history)
    assert "PST" in history
