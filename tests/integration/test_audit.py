"""Staff audit page (web/audit.py): who did what, newest first, for admins."""

from __future__ import annotations

import re

from webtools import enroll_by_form, post_form


def test_the_audit_log_says_who_did_what(staff):
    eid = enroll_by_form(staff)
    page = f"/staff/patients/{eid}"
    post_form(staff, page, f"{page}/cancel", {"reason": "readmitted"})
    log = staff.get("/staff/audit").text
    rows = re.findall(r"<tr><td>[^<]+</td><td>([^<]+)</td><td>([^<]+)</td>", log)
    assert ("nurse.kim", "cancelled: readmitted; 11 unsent message(s) cancelled") in rows or any(
        who == "nurse.kim" and what.startswith("cancelled: readmitted") for who, what in rows
    )
    assert any(what.startswith("enrolled: Ana Lopez") for _, what in rows)
    assert any(what.startswith("login") for _, what in rows)
