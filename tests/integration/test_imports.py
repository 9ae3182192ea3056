"""Staff CSV import pages (web/imports.py): upload, progress, the per-row report."""

from __future__ import annotations

from csvfiles import GOOD_AND_BAD, count, run_worker, upload
from webtools import add_staff, client, csrf, login

from reminders.adapters.db.orm import enrollments


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
    assert 'data-status="running"' in waiting.text and 'max="5" value="0"' in waiting.text
    assert count(engine, enrollments) == 0
    run_worker(container, run_id)
    report = c.get(r.headers["location"])
    assert 'data-status="done"' in report.text
    assert report.text.count('data-outcome="enrolled"') == 2
    assert report.text.count('data-outcome="rejected"') == 3
    assert "not a valid phone number" in report.text
    assert 'max="5" value="5"' in report.text
    listing = c.get("/staff/imports")
    assert "clinic.csv" in listing.text and "2 enrolled" in listing.text


def test_rejected_rows_download_with_a_reason_and_upload_again(container, engine):
    container.send_task = lambda name, *args: None
    add_staff(container)
    c = client(container)
    login(c)
    evil = (
        GOOD_AND_BAD
        + '=HYPERLINK("http://x"),-2+3+cmd,555,,kyphoplasty,someday,,,,,@SUM(A1),verbal,\n'
    )
    r = upload(c, evil)
    run_id = int(r.headers["location"].rsplit("/", 1)[1])
    run_worker(container, run_id)
    assert f'href="/staff/imports/{run_id}/rejected.csv"' in c.get(r.headers["location"]).text
    got = c.get(f"/staff/imports/{run_id}/rejected.csv")
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert "attachment" in got.headers["content-disposition"]
    lines = got.text.removeprefix("\ufeff").splitlines()
    assert lines[0].endswith(",reason") and len(lines) == 5  # the header and 4 rejected rows
    assert (
        lines[1].startswith("Bo,Li,kyphoplasty,2026-03-07 20:00,555,")
        and "line 3: phone:" in lines[1]
    )
    assert "appendectomy" in lines[2] and "805-555-0177" in lines[2]  # numbers left as typed
    assert lines[4].startswith("\"'=HYPERLINK") and ",'-2+3+cmd," in lines[4]
    assert ",'@SUM(A1)," in lines[4]  # no cell runs as a formula in a spreadsheet
    again = upload(c, got.text, name="fixed.csv")
    assert again.status_code == 303  # the reason column does not stop the upload
    assert c.get("/staff/imports/999999/rejected.csv").status_code == 404


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
