"""Domain errors: each names the field at fault and says what to do, in the clinic's words."""

from datetime import datetime

import pytest

from reminders.domain import errors
from reminders.domain.enrollment.contact import normalize_email, normalize_phone
from reminders.domain.enrollment.procedure_time import local_moment
from reminders.domain.errors import InvalidEnrollment, ReminderError
from reminders.domain.planning.timing import zone_named

FIELDS = {
    errors.InvalidPhoneNumber: "phone",
    errors.InvalidEmail: "email",
    errors.UnknownTimeZone: "timezone",
    errors.UnknownProcedure: "procedure",
    errors.UnsupportedLanguage: "language",
    errors.NoConsent: "consent",
    errors.InvalidProcedureTime: "performed_at",
    errors.EnrollmentNotFound: "id",
    # Not a form field: a plan file, a closed enrollment, a forbidden state change.
    errors.InvalidCarePlan: None,
    errors.EnrollmentClosed: None,
    errors.IllegalTransition: None,
}


def test_every_error_class_is_a_reminder_error_with_its_field():
    public = {
        cls
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, ReminderError) and cls is not ReminderError
    }
    assert public == {*FIELDS, InvalidEnrollment}, "a new error needs its field listed here"
    for cls, field in FIELDS.items():
        exc = cls("say what to do")
        assert exc.field == field, cls.__name__
        assert exc.message == str(exc) == "say what to do"


def test_a_caller_may_name_another_field_without_changing_the_class_default():
    moved = errors.NoConsent("there is no phone number to text", field="channels")
    assert moved.field == "channels"
    assert errors.NoConsent("x").field == "consent"


def test_one_wrong_field_is_that_field_and_its_message():
    exc = InvalidEnrollment({"phone": "type the phone number in digits"})
    assert exc.field == "phone"
    assert exc.message == "type the phone number in digits"
    assert exc.lines() == ["phone: type the phone number in digits"]


def test_several_wrong_fields_are_each_named_in_order():
    exc = InvalidEnrollment({"phone": "type it in digits", "levels": "must be 1 to 10"})
    assert exc.field is None  # the whole request: no single field to point at
    assert exc.message == "phone: type it in digits; levels: must be 1 to 10"
    assert exc.lines() == ["phone: type it in digits", "levels: must be 1 to 10"]
    assert exc.errors == {"phone": "type it in digits", "levels": "must be 1 to 10"}


def test_the_errors_are_a_copy_the_caller_cannot_change_afterwards():
    given = {"phone": "wrong"}
    exc = InvalidEnrollment(given)
    given["email"] = "also wrong"
    assert exc.errors == {"phone": "wrong"}


def test_an_empty_error_still_says_something():
    assert InvalidEnrollment({}).message == "the enrollment request is not valid"


@pytest.mark.parametrize(
    ("raise_it", "field", "hint"),
    [
        (lambda: normalize_phone("555-12"), "phone", "need their country code, like +52"),
        (lambda: normalize_phone(""), "phone", "a phone number is needed for SMS"),
        (lambda: normalize_email("ana.example.org"), "email", "is not an email address"),
        (lambda: zone_named("Los_Angeles"), "timezone", "did you mean America/Los_Angeles?"),
    ],
)
def test_errors_raised_by_the_domain_tell_the_user_what_to_type(raise_it, field, hint):
    with pytest.raises(ReminderError) as info:
        raise_it()
    assert info.value.field == field
    assert hint in info.value.message
    assert "Traceback" not in info.value.message and len(info.value.message) < 300


def test_an_error_message_shows_a_date_as_people_write_it():
    with pytest.raises(errors.InvalidProcedureTime) as info:
        local_moment(datetime(2026, 3, 8, 2, 30), zone_named("America/Los_Angeles"))
    assert "datetime(" not in info.value.message
    assert "2026-03-08 02:30" in info.value.message
