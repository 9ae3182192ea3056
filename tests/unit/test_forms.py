"""Staff forms read as typed: trimmed values, a local date-time, a consent method, clear errors."""

from datetime import datetime

import pytest
from starlette.datastructures import FormData, UploadFile

from reminders.domain.model import ConsentMethod
from reminders.entrypoints.web.staff.forms import consent_method, parse_local, typed_values


def test_typed_values_are_trimmed_and_leave_out_the_csrf_token_and_files():
    upload = UploadFile(file=None, filename="clinic.csv")  # type: ignore[arg-type]
    form = FormData(
        [
            ("first_name", "  Ana "),
            ("phone", "(805) 555-0142\t"),
            ("csrf_token", "secret"),
            ("file", upload),
        ]
    )
    assert typed_values(form) == {"first_name": "Ana", "phone": "(805) 555-0142"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-07T23:30", datetime(2026, 3, 7, 23, 30)),  # a browser's datetime-local
        ("2026-03-07 23:30", datetime(2026, 3, 7, 23, 30)),
    ],
)
def test_a_local_date_time_stays_naive_for_the_patients_zone(text, expected):
    errors: dict[str, str] = {}
    assert parse_local(text, errors) == expected
    assert errors == {}


@pytest.mark.parametrize("text", ["", "yesterday", "2026-02-30T10:00"])
def test_a_wrong_date_time_is_a_message_on_the_field(text):
    errors = {"phone": "kept"}
    assert parse_local(text, errors) is None
    assert errors == {
        "phone": "kept",
        "performed_at": "enter the date and time the procedure ended",
    }


def test_the_consent_method_is_verbal_unless_written_is_chosen():
    errors: dict[str, str] = {}
    assert consent_method("", errors) is ConsentMethod.VERBAL
    assert consent_method("written", errors) is ConsentMethod.WRITTEN
    assert errors == {}


def test_an_unknown_consent_method_is_refused_on_the_consent_field():
    errors: dict[str, str] = {}
    assert consent_method("email", errors) is ConsentMethod.VERBAL
    assert errors == {"consent": "consent is given verbally or in writing"}
