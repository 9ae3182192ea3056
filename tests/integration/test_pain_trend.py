"""The pain chart on the patient page: answers by recovery day, gaps where nobody answered,
red flags marked, and the same answers in a table behind the SVG."""

from __future__ import annotations

from datetime import timedelta

import rows
from sqlalchemy import insert
from test_webhooks import ANA, PERFORMED
from webtools import add_staff, client, login

from reminders.adapters.db.orm import checkin_answers
from reminders.services.enrollments import enrollment as enroll_svc
from reminders.services.staff.pain_trend import for_enrollment

# (recovery day, kind, status, answer, pain, red flag); 13:00 in Los Angeles each day
ANSWERS = [
    (1, "pain", "answered", "3", 3, False),
    (2, "pain", "answered", "4", 4, False),
    (4, "pain", "no_answer", None, None, False),
    (6, "pain", "answered", "8", 8, True),
    (7, "warning", "answered", "yes", None, True),
]


def seed(container, engine, clock) -> int:  # type: ignore[no-untyped-def]
    clock.now = PERFORMED
    result = enroll_svc.enroll(
        ANA, uow=container.uow(), planning=container.planning, now=clock(), via="test"
    )
    eid = result.enrollment.id
    with engine.begin() as conn:
        for day, kind, status, answer, pain, flag in ANSWERS:
            asked = PERFORMED + timedelta(days=day, hours=6)
            cid = rows.checkin(conn, eid, kind=kind, status=status, asked_at=asked, phone=ANA.phone)
            if answer is not None:
                iid = rows.inbound(conn, enrollment_id=eid, received_at=asked, body=answer)
                conn.execute(
                    insert(checkin_answers).values(
                        checkin_id=cid, enrollment_id=eid, inbound_id=iid, kind=kind,
                        answer=answer, pain=pain, red_flag=flag, answered_at=asked,
                    )
                )  # fmt: skip
    clock.now = PERFORMED + timedelta(days=10)
    return eid


def test_the_trend_breaks_at_a_missed_check_in_and_marks_red_flags(container, engine, clock):
    eid = seed(container, engine, clock)
    e = enroll_svc.get_enrollment(eid, uow=container.uow())
    trend = for_enrollment(e, uow=container.uow(), now=clock())
    assert [(p.day, p.answer, p.red_flag, p.missed) for p in trend.points] == [
        (1, "3/10", False, False),
        (2, "4/10", False, False),
        (4, "no answer", False, True),
        (6, "8/10", True, False),
        (7, "YES", True, False),
    ]
    assert [[p.day for p in run] for run in trend.segments] == [[1, 2], [6]]
    assert trend.last_day == 7
    high, low = trend.points[3].y, trend.points[0].y
    assert high is not None and low is not None and high < low  # pain 8 drawn above pain 3


def test_the_patient_page_shows_an_accessible_chart(container, engine, clock):
    eid = seed(container, engine, clock)
    web = client(container)
    add_staff(container)
    login(web)
    page = web.get(f"/staff/patients/{eid}").text
    start = page.index('<section id="pain-trend"')
    chart = page[start : page.index("</section>", start)]
    assert '<svg role="img" aria-labelledby="pain-chart-title pain-chart-desc"' in chart
    assert '<title id="pain-chart-title">Pain score (0-10) by recovery day</title>' in chart
    assert "3 pain answers, 2 red flags, 1 check-ins without an answer" in chart
    assert chart.count("<polyline") == 2  # the silence on day 4 is a gap, not a line
    assert chart.count('class="missed"') == 2  # the dashed line and the table row
    assert chart.count('class="red-flag"') == 1  # the YES to warning signs
    assert chart.count("<strong>red flag</strong>") == 2
    assert chart.count("<tr") == 6  # a header and every check-in


def test_no_chart_before_any_check_in(container, clock):
    clock.now = PERFORMED
    result = enroll_svc.enroll(
        ANA, uow=container.uow(), planning=container.planning, now=clock(), via="test"
    )
    web = client(container)
    add_staff(container)
    login(web)
    assert 'id="pain-trend"' not in web.get(f"/staff/patients/{result.enrollment.id}").text
