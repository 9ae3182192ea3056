"""Finding patients (adapters/db/enrollments/patient_search.py): accent- and case-blind search, filters,
sort and paging, through the staff page."""

from __future__ import annotations

from webtools import enroll_by_form, post_form

enroll = enroll_by_form  # the signed-in admin client is the `staff` fixture


def test_search_ignores_accents_and_case_and_filters_and_pages(staff):
    eid = enroll(staff, first_name="José", last_name="Ramírez", phone="(805) 555-0199")
    for i in range(30):
        enroll(staff, first_name="Pat", last_name=f"Number{i}", phone=f"(805) 555-{1000 + i}")
    for q in ("Ramirez", "ramírez", "JOSE ramirez", "5550199", "805-555-0199", f"#{eid}"):
        found = staff.get("/staff/patients", params={"q": q}).text
        assert f'href="/staff/patients/{eid}"' in found, q
        assert "1 in all" in found, q
    first = staff.get("/staff/patients").text
    assert first.count('class="link"') == 25 and "Page 1 of 2 · 31 in all" in first
    second = staff.get("/staff/patients", params={"page": 2, "sort": "name"}).text
    assert second.count('class="link"') == 6 and "sort=name&amp;page=1" in second
    # By last name (issue 27: it sorted by first name): the Numbers before Ramírez.
    by_name = staff.get("/staff/patients", params={"sort": "name"}).text
    assert by_name.index("Pat Number0") < by_name.index("Pat Number1")
    assert "José Ramírez" not in by_name and "José Ramírez" in second
    cancelled = f"/staff/patients/{eid}"
    post_form(staff, cancelled, f"{cancelled}/cancel", {"reason": "test"})
    only = staff.get("/staff/patients", params={"status": "cancelled"}).text
    assert only.count('class="link"') == 1 and "José Ramírez" in only
    assert "No patient matches" in staff.get("/staff/patients", params={"red_flag": "true"}).text
    assert "No patient matches" in staff.get("/staff/patients", params={"failed": "true"}).text
    week = staff.get("/staff/patients", params={"recovery": "week1"}).text
    assert "31 in all" in week
    assert "No patient matches" in staff.get("/staff/patients", params={"recovery": "later"}).text
