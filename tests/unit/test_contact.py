"""Phone numbers become E.164; bad ones are refused with a reason; logs see them masked."""

import pytest

from reminders.domain.enrollment.contact import (
    mask_email,
    mask_phone,
    normalize_email,
    normalize_phone,
)
from reminders.domain.errors import InvalidEmail, InvalidPhoneNumber


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("805-242-4884", "+18052424884"),
        ("(805) 242 4884", "+18052424884"),
        ("+52 55 1234 5678", "+525512345678"),
        ("+44 7911 123456", "+447911123456"),
    ],
)
def test_valid_numbers(raw, e164):
    assert normalize_phone(raw) == e164


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("", "needed"),
        ("12", "not a valid"),
        ("call me", "not a phone number"),
        ("+1 800 555 1234", "cannot receive text"),
        ("+44 20 7946 0958", "cannot receive text"),
    ],
)
def test_invalid_numbers(raw, why):
    with pytest.raises(InvalidPhoneNumber, match=why):
        normalize_phone(raw)


def test_emails():
    assert normalize_email(" Ana.Perez@Example.ORG ") == "Ana.Perez@example.org"
    for bad in ["ana", "ana@", "ana@example", "a b@example.org", "ana@@example.org"]:
        with pytest.raises(InvalidEmail):
            normalize_email(bad)


def test_masks():
    assert mask_phone("+18052424884") == "+1******4884"
    assert mask_email("ana@example.org") == "a***@example.org"
