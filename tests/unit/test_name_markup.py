"""Names go into texts without markup or links (issue 22, finding 15): refused at intake."""

from __future__ import annotations

import pytest

from reminders.domain.enrollment.fields import text_field


@pytest.mark.parametrize(
    "typed",
    [
        'Rosa "><img src=x onerror=alert(1)>',
        "Ana <b>Lopez</b>",
        "Ana see https://evil.example",
        "www.win-a-prize.example",
        "Ana bit.ly/x",
        "Ana evil.com",
        "ana@example.org",
        "Ana &lt;script&gt;",
        "Ana [click](x)",
    ],
)
@pytest.mark.parametrize("field", ["first_name", "last_name", "caregiver_name"])
def test_markup_and_links_are_refused_in_names(typed, field):
    errors: dict[str, str] = {}
    assert text_field(typed, field, 100, errors) == ""
    assert "name only" in errors[field]


@pytest.mark.parametrize("name", ["O'Brien", "Smith-Jones", "St. John", "Zoë", "María José", "Jr."])
def test_real_names_pass(name):
    errors: dict[str, str] = {}
    assert text_field(name, "last_name", 100, errors) == name and not errors
