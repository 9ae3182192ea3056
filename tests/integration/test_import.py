"""CSV intake from the command line and the upload page: per-row report, re-runs are safe."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from webtools import add_staff, client, csrf, login

from reminders.adapters.orm import enrollments, import_rows, scheduled_messages
from reminders.entrypoints.cli import main
from reminders.services import intake

GOOD_AND_BAD = """\ufefffirst_name,last_name,phone,email,procedure,performed_at,timezone,language,levels,overnight,external_id,sms_consent,email_consent
Ana,Lopez,(805) 555-0142,ana@example.org,kyphoplasty,2026-03-07 23:30,,es,2,yes,EHR-1,verbal,written
Bo,Li,555,,kyphoplasty,2026-03-07 20:00,,,,,EHR-2,verbal,
Cy,Diaz,805-555-0177,,appendectomy,2026-03-07 20:00,,,,,EHR-3,verbal,
Di,Park,,di@example.org,vertebroplasty,03/07/2026 18:15,America/Chicago,,1,no,,,written
Ed,Ng,805-555-0188,,kyphoplasty,someday,,,,,EHR-5,verbal,
"""


def count(engine, table):
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(table))


@pytest.fixture
def cli(container, monkeypatch):
    monkeypatch.setattr("reminders.entrypoints.cli_staff.container", lambda: container)
    return CliRunner()


def test_cli_import_reports_each_row_and_reruns_enroll_nobody_twice(cli, engine, tmp_path):
    path = tmp_path / "procedures.csv"
    path.write_text(GOOD_AND_BAD, encoding="utf-8")
    r = cli.invoke(main, ["import", str(path), "--by", "nurse.kim"])
    assert r.exit_code == 1, r.output  # some rows were rejected
    out = r.output
    assert "[1/5] line 2 Ana Lopez: enrolled as" in out
    assert "line 3 Bo Li: REJECTED phone: '555' is not a valid phone number" in out
    assert "line 4 Cy Diaz: REJECTED procedure: no care plan for 'appendectomy'" in out
    assert "line 5 Di Park: enrolled as" in out
    assert "line 6 Ed Ng: REJECTED performed_at:" in out
    assert "Done: 2 enrolled, 0 already enrolled, 3 rejected." in out
    messages = count(engine, scheduled_messages)
    again = cli.invoke(main, ["import", str(path)])
    assert "Done: 0 enrolled, 2 already enrolled, 3 rejected." in again.output
    assert count(engine, enrollments) == 2
    assert count(engine, scheduled_messages) == messages
    assert count(engine, import_rows) == 10


def test_the_row_details_are_kept(cli, container, tmp_path):
    path = tmp_path / "one.csv"
    path.write_text(GOOD_AND_BAD.splitlines()[0] + "\n" + GOOD_AND_BAD.splitlines()[1] + "\n")
    assert cli.invoke(main, ["import", str(path)]).exit_code == 0
    from reminders.services.enrollment import get_enrollment

    e = get_enrollment(1, uow=container.uow())
    assert (e.patient.language, e.procedure.levels, e.procedure.overnight) == ("es", 2, True)
    assert e.patient.timezone == "America/Los_Angeles"  # empty: the clinic's
    assert {(c.channel.value, c.method.value) for c in e.consents} == {
        ("sms", "verbal"),
        ("email", "written"),
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "first_name,last_name,procedure\nAna,Lopez,kyphoplasty\n",
            "missing column(s) performed_at",
        ),
        ("first_name,last_name,procedure,performed_at,phnoe\n", "unknown column(s) phnoe"),
        ("", "the file is empty"),
        ("first_name,last_name,procedure,performed_at\n", "no rows"),
    ],
)
def test_a_bad_file_is_refused_whole(cli, engine, tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    r = cli.invoke(main, ["import", str(path)])
    assert r.exit_code == 2 and message in r.output
    assert count(engine, enrollments) == 0


def test_a_file_that_is_not_utf8(cli, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        "first_name,last_name,procedure,performed_at\nJosé,Pé,kyphoplasty,2026-03-07 20:00\n".encode(
            "latin-1"
        )
    )
    r = cli.invoke(main, ["import", str(path)])
    assert r.exit_code == 2 and "not UTF-8" in r.output


def run_worker(container, run_id):
    """What the reminders.import_csv task does, called directly (no broker, no eager mode)."""
    return intake.run_import(
        run_id,
        uow=container.uow(),
        planning=container.planning,
        clock=container.clock,
        default_timezone=container.settings.clinic_timezone,
    )


def upload(c, text, name="clinic.csv"):
    page = c.get("/staff/imports")
    return c.post(
        "/staff/imports",
        data={"csrf_token": csrf(page.text)},
        files={"file": (name, text.encode(), "text/csv")},
        follow_redirects=False,
    )


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


def test_a_run_a_restart_interrupted_goes_on_where_it_stopped(container, engine, monkeypatch):
    from reminders.services.csv_rows import read_csv

    run_id = intake.start_import(
        uow=container.uow(),
        filename="clinic.csv",
        rows=read_csv(GOOD_AND_BAD),
        by="nurse.kim",
        now=container.clock(),
    )
    assert count(engine, import_rows) == 5  # stored before anything is enrolled
    real = intake._enroll_row
    calls = []

    def dies_on_the_third_row(row, **kw):
        calls.append(row.number)
        if len(calls) == 3:
            raise KeyboardInterrupt  # the worker is killed mid-run
        return real(row, **kw)

    monkeypatch.setattr(intake, "_enroll_row", dies_on_the_third_row)
    with pytest.raises(KeyboardInterrupt):
        run_worker(container, run_id)
    monkeypatch.setattr(intake, "_enroll_row", real)
    run, rows = intake.import_report(uow=container.uow(), run_id=run_id)
    assert (run["status"], run["processed"], len(rows)) == ("running", 2, 2)

    summary = run_worker(container, run_id)  # the task, delivered again
    assert (summary.enrolled, summary.duplicates, summary.rejected) == (2, 0, 3)
    run, rows = intake.import_report(uow=container.uow(), run_id=run_id)
    assert (run["status"], run["processed"]) == ("done", 5)
    assert [r["row_number"] for r in rows] == [2, 3, 4, 5, 6]
    assert count(engine, enrollments) == 2

    again = run_worker(container, run_id)  # a finished run is left as it is
    assert (again.enrolled, again.rejected) == (2, 3)
    assert count(engine, import_rows) == 5


def test_csv_rows_report_every_unreadable_column_with_the_rest(cli, engine, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "first_name,last_name,phone,procedure,performed_at,levels,sms_consent\n"
        "Ana,Lopez,805-CALL-NOW,kyphoplasty,someday,two,verbal\n"
    )
    r = cli.invoke(main, ["import", str(path)])
    assert r.exit_code == 1
    assert "REJECTED phone: '805-CALL-NOW' contains letters" in r.output
    assert "performed_at: 'someday' is not a date and time" in r.output
    assert "levels: levels 'two' is not a whole number" in r.output
    assert count(engine, enrollments) == 0
