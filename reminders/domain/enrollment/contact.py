"""Patient contact details: phone numbers to E.164, email addresses checked for shape."""

from __future__ import annotations

import re

import phonenumbers

from reminders.domain.errors import InvalidEmail, InvalidPhoneNumber

_EMAIL = re.compile(
    r"^[^@\s<>(),;:\"\[\]]+"  # local part: anything but spaces and separators
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"  # a dotted domain
)
_SMS_CAPABLE = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


def normalize_phone(raw: str, *, default_region: str = "US") -> str:
    """Return the number in E.164 (+18052424884) or raise InvalidPhoneNumber saying why."""
    text = (raw or "").strip()
    if not text:
        raise InvalidPhoneNumber("a phone number is needed for SMS")
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumber(f"{text!r} is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(
            f"{text!r} is not a valid phone number"
            f" (numbers outside {default_region} need their country code, like +52)"
        )
    kind = phonenumbers.number_type(number)
    if kind not in _SMS_CAPABLE and kind != phonenumbers.PhoneNumberType.UNKNOWN:
        # In the US every geographic number reads as FIXED_LINE_OR_MOBILE; a number that
        # is known to be a landline, toll-free or premium line cannot receive a text.
        raise InvalidPhoneNumber(f"{text!r} cannot receive text messages (it is not a mobile)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str) -> str:
    """Return the address trimmed, with a lowercase domain, or raise InvalidEmail."""
    text = (raw or "").strip()
    if not _EMAIL.match(text) or len(text) > 254:
        raise InvalidEmail(f"{text!r} is not an email address")
    local, domain = text.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def mask_phone(phone: str | None) -> str:
    """Show only the last four digits, for logs: +1******4884."""
    if not phone:
        return "-"
    return phone[:2] + "*" * max(len(phone) - 6, 0) + phone[-4:]


def mask_email(email: str | None) -> str:
    """Show the first letter and the domain, for logs: m***@example.org."""
    if not email or "@" not in email:
        return "-"
    local, domain = email.rsplit("@", 1)
    return f"{local[:1]}***@{domain}"
