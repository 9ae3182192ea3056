"""CSV rows (services/enrollments/csv_rows.py): the header, encodings, every unreadable column named, row details kept."""

from __future__ import annotations

import pytest
from csvfiles import GOOD_AND_BAD, count

from reminders.adapters.db.orm import enrollments
from reminders.entrypoints.cli.main import main


def test_the_row_details_are_kept(cli_runner, container, tmp_path):
    path = tmp_path / "one.csv"
    path.write_text(GOOD_AND_BAD.splitlines()[0] + "\n" + GOOD_AND_BAD.splitlines()[1] + "\n")
    assert cli_runner.invoke(main, ["import", str(path)]).exit_code == 0
    from reminders.services.enrollments.enrollment import get_enrollment

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
def test_a_bad_file_is_refused_whole(cli_runner, engine, tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    r = cli_runner.invoke(main, ["import", str(path)])
    assert r.exit_code == 2 and message in r.output
    assert count(engine, enrollments) == 0


def test_a_file_that_is_not_utf8(cli_runner, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        "first_name,last_name,procedure,performed_at\nJosé,Pé,kyphoplasty,2026-03-07 20:00\n".encode(
            "latin-1"
        )
    )
    r = cli_runner.invoke(main, ["import", str(path)])
    assert r.exit_code == 2 and "not UTF-8" in r.output


def test_csv_rows_report_every_unreadable_column_with_the_rest(cli_runner, engine, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "first_name,last_name,phone,procedure,performed_at,levels,sms_consent\n"
        "Ana,Lopez,805-CALL-NOW,kyphoplasty,someday,two,verbal\n"
    )
    r = cli_runner.invoke(main, ["import", str(path)])
    assert r.exit_code == 1
    assert "REJECTED phone: '805-CALL-NOW' contains letters" in r.output
    assert "performed_at: 'someday' is not a date and time" in r.output
    assert "levels: levels 'two' is not a whole number" in r.output
    assert count(engine, enrollments) == 0


def test_a_nul_or_an_endless_value_rejects_its_row_not_the_file(cli_runner, engine, tmp_path):
    # PostgreSQL cannot store a NUL: the row is reported, the good row still enrolls.
    good = GOOD_AND_BAD.splitlines()[1]
    path = tmp_path / "hostile.csv"
    path.write_text(
        GOOD_AND_BAD.splitlines()[0]
        + "\n"
        + good
        + "\n"
        + good.replace("Ana", "An\x00a", 1).replace("0142", "0143")
        + "\n"
        + good.replace("Ana", "A" * 10_000, 1).replace("0142", "0144")
        + "\n"
    )
    r = cli_runner.invoke(main, ["import", str(path)])
    assert r.exit_code == 1, r.output
    assert "An\ufffda" in r.output and "must not contain control characters" in r.output
    assert "10000 characters long" in r.output
    assert count(engine, enrollments) == 1
