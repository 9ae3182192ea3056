"""Outcomes on a seeded cohort whose answers are known: every figure exact, on the page, in
the CSV (formula injection neutralised) and on /metrics."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import rows
from sqlalchemy import insert, select, update
from webtools import add_staff, client, login, token

from reminders.adapters.db.orm import (
    audit_log,
    checkin_answers,
    enrollments,
    escalations,
    scheduled_messages,
    sms_opt_outs,
)
from reminders.adapters.db.staff.outcomes_repository import Cohort
from reminders.services.staff.outcomes import compute, percentile, safe_cell

PERFORMED = datetime(2026, 3, 9, 17, 0, tzinfo=UTC)  # 09:00 in Los Angeles
DAY1 = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)
DAY3 = datetime(2026, 3, 12, 19, 0, tzinfo=UTC)
MARCH = Cohort(
    start=datetime(2026, 3, 1, 8, 0, tzinfo=UTC),
    end=datetime(2026, 4, 1, 7, 0, tzinfo=UTC),
    procedure="lumbar_fusion",
)
LATER = datetime(2026, 4, 2, tzinfo=UTC)


def _enroll(conn, phone: str, *, procedure: str = "lumbar_fusion", performed=PERFORMED) -> int:  # type: ignore[no-untyped-def]
    eid = rows.enrollment(conn, rows.patient(conn, phone=phone))
    conn.execute(
        update(enrollments)
        .where(enrollments.c.id == eid)
        .values(performed_at=performed, procedure=procedure)
    )
    return eid


def _checkin(conn, eid: int, phone: str, asked: datetime, answer_after: float | None) -> None:  # type: ignore[no-untyped-def]
    cid = rows.checkin(conn, eid, phone=phone, asked_at=asked, status="open")
    if answer_after is not None:
        at = asked + timedelta(minutes=answer_after)
        iid = rows.inbound(conn, enrollment_id=eid, from_phone=phone, received_at=at)
        conn.execute(
            insert(checkin_answers).values(
                checkin_id=cid, enrollment_id=eid, inbound_id=iid, kind="pain",
                answer="3", pain=3, red_flag=False, answered_at=at,
            )
        )  # fmt: skip


def _message(conn, eid: int, status: str, error_class: str | None = None) -> None:  # type: ignore[no-untyped-def]
    mid = rows.checkin_text(conn, eid, status=status)
    conn.execute(
        update(scheduled_messages)
        .where(scheduled_messages.c.id == mid)
        .values(error_class=error_class, category="care", checkin=None)
    )


def _flag(
    conn, eid: int, created: datetime, *, ack: float | None = None, resolved: float | None = None
) -> None:  # type: ignore[no-untyped-def]
    conn.execute(
        insert(escalations).values(
            enrollment_id=eid, kind="red_flag", reason="pain 9/10", notes="",
            status="acknowledged" if ack else ("resolved" if resolved else "open"),
            created_at=created, updated_at=created,
            acknowledged_at=created + timedelta(minutes=ack) if ack else None,
            resolved_at=created + timedelta(minutes=resolved) if resolved else None,
        )
    )  # fmt: skip


@pytest.fixture
def seeded(engine):  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        p1 = _enroll(conn, "+18055550001")
        p2 = _enroll(conn, "+18055550002")
        p3 = _enroll(conn, "+18055550003")
        _enroll(conn, "+18055550004")
        # P1 answers day 1 in 10 min and day 3 in 30; P2 day 1 in 60, not day 3; P3 never.
        _checkin(conn, p1, "+18055550001", DAY1, 10)
        _checkin(conn, p1, "+18055550001", DAY3, 30)
        _checkin(conn, p2, "+18055550002", DAY1, 60)
        _checkin(conn, p2, "+18055550002", DAY3, None)
        _checkin(conn, p3, "+18055550003", DAY1, None)
        _message(conn, p1, "delivered")
        _message(conn, p1, "delivered")
        _message(conn, p2, "undelivered", "transient")
        _message(conn, p2, "failed", "permanent")
        _message(conn, p3, "scheduled")
        _flag(conn, p1, DAY3 + timedelta(minutes=30), ack=5)
        _flag(conn, p2, DAY1 + timedelta(hours=2), resolved=20)
        _flag(conn, p3, DAY1 + timedelta(hours=3))  # nobody ever acted on it
        conn.execute(
            insert(sms_opt_outs).values(
                phone="+18055550003", active=True, source="keyword",
                opted_out_at=DAY3, updated_at=DAY3,
            )
        )  # fmt: skip
        # Outside the cohort: another month, and (for the procedure filter) another plan.
        old = _enroll(conn, "+18055550005", performed=PERFORMED - timedelta(days=40))
        _checkin(conn, old, "+18055550005", DAY1 - timedelta(days=40), None)
        _flag(conn, old, DAY1 - timedelta(days=40))
        _enroll(conn, "+18055550006", procedure="kyphoplasty")


def test_every_figure_of_a_known_cohort(container, seeded):
    o = compute(uow=container.uow(), cohort=MARCH, target=timedelta(minutes=15), now=LATER)
    assert o.enrolled == 4
    # 5 check-in texts "sent" + 2 delivered + 1 undelivered; failed = undelivered + failed.
    assert (o.sent, o.delivered, o.failed, o.attempted) == (8, 2, 2, 9)
    assert [(d.day, d.asked, d.answered) for d in o.by_day] == [(1, 3, 2), (3, 2, 1)]
    assert (o.asked, o.answered, o.response_rate) == (5, 3, 0.6)
    assert o.median_answer_minutes == 30
    assert (o.red_flags, o.red_flags_per_100) == (3, 75.0)
    assert (sorted(o.ack_minutes), o.median_ack_minutes, o.p90_ack_minutes) == (
        [5.0, 20.0],
        12.5,
        20.0,
    )
    assert o.past_target == 2  # resolved after 20 min, and the one nobody touched
    assert (o.opted_out, o.opt_out_rate) == (1, 0.25)
    assert o.failed_by_class == {"transient": 1, "permanent": 1}
    assert round(o.failure_rate("transient"), 4) == round(1 / 9, 4)
    everyone = compute(
        uow=container.uow(),
        cohort=Cohort(MARCH.start, MARCH.end),
        target=timedelta(minutes=15),
        now=LATER,
    )
    assert everyone.enrolled == 5


def test_the_page_and_the_csv_show_the_same_figures(container, engine, seeded, clock):
    clock.now = LATER
    web = client(container)
    add_staff(container)
    login(web)
    q = "from=2026-03-01&to=2026-03-31&procedure=lumbar_fusion"
    page = web.get(f"/staff/outcomes?{q}")
    assert page.status_code == 200, page.text
    for words in (
        '<th scope="row">Patients enrolled</th><td>4</td>',
        '<th scope="row">Check-in response rate</th><td>60.0%</td>',
        '<th scope="row">Response rate, day 1</th><td>66.7% (2/3)</td>',
        '<th scope="row">Red flags per 100 patients</th><td>75.0</td>',
        '<th scope="row">p90 time to acknowledge (min)</th><td>20.0</td>',
        'role="img"',
        '<title id="chart-response-title">Check-in response rate by recovery day</title>',
        'href="/staff/outcomes"',  # the nav link
    ):
        assert words in page.text
    r = web.get(f"/staff/outcomes.csv?{q}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    table = dict(tuple(row) for row in csv.reader(io.StringIO(r.text)))  # type: ignore[misc]
    assert table["Patients enrolled"] == "4"
    assert table["Median time to acknowledge (min)"] == "12.5"
    assert table["Red flags past the 15-min target"] == "2"
    assert table["Undelivered rate, transient"] == "11.1%"
    assert table["Opt-out rate"] == "25.0%"
    with engine.connect() as conn:  # the export is in the audit log, with who
        export = conn.execute(
            select(audit_log.c.actor, audit_log.c.detail).where(audit_log.c.action == "read")
        ).all()
    assert any(d.startswith("export outcomes-") for _, d in export)


def test_bad_dates_are_refused_clearly(container, seeded):
    web = client(container)
    add_staff(container)
    login(web)
    r = web.get("/staff/outcomes?from=March&to=2026-03-31")
    assert r.status_code == 422 and "Write a date as YYYY-MM-DD." in r.text
    r = web.get("/staff/outcomes?from=2026-04-01&to=2026-03-01")
    assert r.status_code == 422 and "before the start date" in r.text
    assert web.get("/staff/outcomes.csv?procedure=nope").status_code == 422


def test_csv_cells_never_run_as_formulas(container, engine, clock):
    with engine.begin() as conn:
        _enroll(conn, "+18055550009", procedure="=HYPERLINK(1)")
    clock.now = LATER
    web = client(container)
    add_staff(container)
    login(web)
    r = web.get("/staff/outcomes.csv?from=2026-03-01&to=2026-03-31&procedure=%3DHYPERLINK(1)")
    assert r.status_code == 200, r.text
    assert "Procedure,'=HYPERLINK(1)" in r.text
    for cell in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(cell) == "'" + cell
    assert safe_cell("12.5") == "12.5"


def test_percentile_is_nearest_rank():
    assert percentile([], 90) is None
    assert percentile([3.0], 90) == 3.0
    assert percentile([float(x) for x in range(1, 11)], 90) == 9.0
    assert percentile([float(x) for x in range(1, 12)], 90) == 10.0


def test_metrics_carry_the_response_rate_and_the_acknowledgement_histogram(
    container, seeded, clock
):
    clock.now = datetime(2026, 3, 20, tzinfo=UTC)
    web = client(container)
    web.headers.update(token(container, "prometheus"))
    text = web.get("/metrics").text
    # The last 90 days: March's cohort and January's (one check-in, unanswered).
    assert "reminders_checkin_response_rate 0.5" in text
    assert 'reminders_time_to_acknowledge_seconds_bucket{le="300.0"} 1.0' in text
    assert 'reminders_time_to_acknowledge_seconds_bucket{le="1800.0"} 2.0' in text
    assert "reminders_time_to_acknowledge_seconds_count 2.0" in text
