"""Staff audit page (web/audit.py): who did what, filtered and paged, for admins."""

from __future__ import annotations

import re

from webtools import enroll_by_form, post_form


def test_the_audit_log_says_who_did_what(staff):
    eid = enroll_by_form(staff)
    page = f"/staff/patients/{eid}"
    post_form(staff, page, f"{page}/cancel", {"reason": "readmitted"})
    log = staff.get("/staff/audit").text
    rows = re.findall(
        r'<td data-label="Who">([^<]+)</td>\s*<td data-label="What">([^<]+)</td>', log
    )
    assert any(
        who == "nurse.kim" and what.startswith("Cancelled: readmitted") for who, what in rows
    )
    assert any(what.startswith("Enrolled: Ana Lopez") for _, what in rows)
    assert any(what.startswith("Login") for _, what in rows)
    # The clinic's time, its zone named, UTC on hover.
    assert re.search(r'title="UTC: 2026-03-0\d \d\d:\d\d:\d\d UTC">Mar \d+, 2026 .* PST<', log)
    only = staff.get("/staff/audit", params={"action": "cancelled", "patient": f"#{eid}"}).text
    assert "readmitted" in only and "Enrolled: Ana" not in only
    none = staff.get("/staff/audit", params={"day_from": "2026-03-09"}).text
    assert "Nothing recorded with these filters." in none


def test_the_audit_log_pages(staff, container):
    from reminders.services import audit

    with container.uow() as uow:
        for i in range(120):
            audit.record(
                uow, actor="bot", action="test_entry", detail=f"entry {i}", now=container.clock()
            )
        uow.commit()
    first = staff.get("/staff/audit", params={"actor": "bot"}).text
    assert first.count('data-label="Who">bot<') == 50 and "Page 1 of 2" in first
    assert "actor=bot&amp;page=2" in first
    third = staff.get("/staff/audit", params={"actor": "bot", "page": 3}).text
    assert third.count('data-label="Who">bot<') == 20 and "Next page" not in third
