"""Staff pages: escaped, strict templates; times in the patient's zone; one-time flashes."""

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from jinja2 import UndefinedError

from reminders.entrypoints.web.staff.pages import LANGUAGES, local_time, make_templates


@pytest.fixture
def staff_templates(tmp_path):
    folder = tmp_path / "staff"
    folder.mkdir()
    (folder / "note.html").write_text(
        "{% for kind, text in flashes %}[{{ kind }}] {{ text }}\n{% endfor %}"
        "{{ clinic.name }}|{{ note }}|{{ when | local('America/Los_Angeles') }}"
        "|{{ phone | mask_phone }}|{{ LANGUAGES['es'] }}|{{ path }}|{{ csrf | length }}",
        encoding="utf-8",
    )
    (folder / "strict.html").write_text("{{ missing }}", encoding="utf-8")
    return tmp_path


def test_a_utc_time_is_shown_in_the_patients_zone_the_way_the_clinic_reads_it():
    when = datetime(2026, 3, 8, 17, 0, tzinfo=UTC)
    assert local_time(when, "America/Los_Angeles") == "Sun Mar 8, 10:00 AM PDT"
    assert local_time(when, "Europe/Madrid") == "Sun Mar 8, 6:00 PM CET"
    assert local_time(when, "America/New_York", "%Y-%m-%d %H:%M") == "2026-03-08 13:00"
    assert local_time(None, "America/Los_Angeles") == ""


def test_pages_escape_what_patients_typed_and_fail_on_a_missing_variable(staff_templates):
    env = make_templates(staff_templates).env
    page = env.get_template("note.html").render(
        flashes=[],
        clinic=SimpleNamespace(name="Clinic"),
        note="<script>alert(1)</script>",
        when=datetime(2026, 3, 8, 17, 0, tzinfo=UTC),
        phone="+18055550142",
        path="/p",
        csrf="x" * 43,
    )
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "|Sun Mar 8, 10:00 AM PDT|" in page
    assert "|+1******0142|" in page  # a phone on a page shows its last four digits
    assert f"|{LANGUAGES['es']}|" in page
    with pytest.raises(UndefinedError):
        env.get_template("strict.html").render()
