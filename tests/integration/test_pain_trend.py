"""The pain chart on the patient page: answers by recovery day, gaps where nobody answered,
red flags marked, and the same answers in a table behind the SVG."""

from __future__ import annotations

import re
from datetime import timedelta

import rows
from sqlalchemy import insert
from test_webhooks import ANA, PERFORMED
from webtools import add_staff, client, login

from reminders.adapters.db.orm import checkin_answers, escalations
from reminders.services.enrollments import enrollment as enroll_svc
from reminders.services.staff.pain_trend import for_enrollment

# (recovery day, kind, status, answer, pain, red flag); 13:00 in Los Angeles each day.
# Every check-in of both care plans asks pain and warning signs together (pain_warning).
ANSWERS = [
    (1, "pain_warning", "answered", "3", 3, False),
    (2, "pain_warning", "answered", "4 no", 4, False),
    (4, "pain_warning", "no_answer", None, None, False),
    (6, "pain_warning", "answered", "8", 8, True),
    (7, "pain_warning", "answered", "yes", None, True),
]
FREE_TEXT_DAY = 8  # "I can't feel my legs", answering no question: an open red flag


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
                if flag:
                    escalate(conn, eid, iid, asked, "pain 8 of 10", checkin_id=cid)
        at = PERFORMED + timedelta(days=FREE_TEXT_DAY, hours=3)
        iid = rows.inbound(conn, enrollment_id=eid, received_at=at, body="I can't feel my legs")
        escalate(conn, eid, iid, at, 'Patient wrote "can\'t feel my legs" in a text')
    clock.now = PERFORMED + timedelta(days=10)
    return eid


def escalate(conn, eid, iid, at, reason, checkin_id=None):  # type: ignore[no-untyped-def]
    conn.execute(
        insert(escalations).values(
            enrollment_id=eid, checkin_id=checkin_id, inbound_id=iid, kind="red_flag",
            reason=reason, status="open", notes="", created_at=at, updated_at=at,
        )
    )  # fmt: skip


def test_the_trend_draws_real_check_ins_breaks_at_a_missed_one_and_marks_red_flags(
    container, engine, clock
):
    eid = seed(container, engine, clock)
    e = enroll_svc.get_enrollment(eid, uow=container.uow())
    trend = for_enrollment(e, uow=container.uow(), now=clock())
    assert [(p.day, p.answer, p.red_flag, p.missed) for p in trend.points] == [
        (1, "3/10", False, False),
        (2, "4/10, NO", False, False),
        (4, "no answer", False, True),
        (6, "8/10", True, False),
        (7, "YES", True, False),
    ]
    assert [[p.day for p in run] for run in trend.segments] == [[1, 2], [6]]
    assert [(f.day, "legs" in f.reason) for f in trend.flags] == [(FREE_TEXT_DAY, True)]
    assert trend.last_day == FREE_TEXT_DAY
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
    assert "3 pain answers, 3 red flags, 1 check-ins without an answer" in chart
    assert chart.count("<polyline") == 2  # the silence on day 4 is a gap, not a line
    assert chart.count('class="missed"') == 2  # the dashed line and the table row
    assert chart.count('class="red-flag"') == 1  # the YES to warning signs
    assert chart.count('class="red-flag free"') == 1  # the text about the legs
    assert chart.count("<strong>red flag</strong>") == 3
    assert chart.count("<tr") == 7  # a header, every check-in and the free-text flag
    assert "pain (0-10) and warning signs" in chart and "(the patient's time," in chart
    assert "PDT</td>" in chart  # each time with its zone


def test_every_open_red_flag_is_in_the_header_and_on_the_strip(container, engine, clock):
    eid = seed(container, engine, clock)
    web = client(container)
    add_staff(container)
    login(web)
    page = web.get(f"/staff/patients/{eid}").text
    assert "⚑ 3 open red flags" in page  # the pain 8, the YES to warning signs and the text
    strip = page[page.index('id="strip"') : page.index("</ol>", page.index('id="strip"'))]
    assert strip.count('class="mark flag"') == 3  # the two answers, on their messages
    assert strip.count('class="mark flag" href="#red-flag-') == 1  # the text, on its day
    assert "Day 8" in strip and "legs" in strip
    assert page.count('id="banner-red-flag"') == 1
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "an id used twice"


def test_no_chart_before_any_check_in(container, clock):
    clock.now = PERFORMED
    result = enroll_svc.enroll(
        ANA, uow=container.uow(), planning=container.planning, now=clock(), via="test"
    )
    web = client(container)
    add_staff(container)
    login(web)
    assert 'id="pain-trend"' not in web.get(f"/staff/patients/{result.enrollment.id}").text
