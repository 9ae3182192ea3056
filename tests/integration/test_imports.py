"""Staff CSV import pages (web/imports.py): upload, progress, the per-row report."""

from __future__ import annotations

from csvfiles import GOOD_AND_BAD, count, run_worker, upload
from webtools import add_staff, client, csrf, login

from reminders.adapters.orm import enrollments


def test_upload_page_shows_progress_and_the_report(container, engine):
    sent = []
    container.send_task = lambda name, *args: sent.append((name, *args))
    add_staff(container)
    c = client(container)
    login(c)
    r = upload(c, GOOD_AND_BAD)
    assert r.status_code == 303
    run_id = int(r.headers["location"].rsplit("/", 1)[1])
    assert sent == [("reminders.import_csv", run_id)]  # by id, after the rows were stored
    waiting = c.get(r.headers["location"])
    assert 'data-status="running"' in waiting.text and 'aria-valuenow="0"' in waiting.text
    assert count(engine, enrollments) == 0
    run_worker(container, run_id)
    report = c.get(r.headers["location"])
    assert 'data-status="done"' in report.text
    assert report.text.count('data-outcome="enrolled"') == 2
    assert report.text.count('data-outcome="rejected"') == 3
    assert "not a valid phone number" in report.text
    assert 'aria-valuenow="5"' in report.text
    listing = c.get("/staff/imports")
    assert "clinic.csv" in listing.text and "2 enrolled" in listing.text


def test_upload_of_a_bad_file_explains(container):
    add_staff(container)
    c = client(container)
    login(c)
    page = c.get("/staff/imports")
    r = c.post(
        "/staff/imports",
        data={"csrf_token": csrf(page.text)},
        files={"file": ("x.csv", b"name,phone\nAna,1\n", "text/csv")},
    )
    assert r.status_code == 422 and "missing column(s)" in r.text
    none = c.post("/staff/imports", data={"csrf_token": csrf(page.text)})
    assert none.status_code == 422 and "choose a CSV file" in none.text
