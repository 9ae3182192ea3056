"""Production refuses insecure settings (issue 22, finding 13)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from reminders.settings import Settings

GOOD = {
    "REMINDERS_ENVIRONMENT": "production",
    "REMINDERS_DATABASE_URL": "postgresql+psycopg://u:p@db/r",
    "REMINDERS_BROKER_URL": "redis://redis:6379/0",
    "TWILIO_ACCOUNT_SID": "AC1",
    "TWILIO_AUTH_TOKEN": "t",
    "REMINDERS_CLINIC_NAME": "Clinic",
    "REMINDERS_CLINIC_PHONE": "805-555-0100",
    "SMTP_HOST": "smtp.example.org",
    "EMAIL_FROM": "care@example.org",
    "REMINDERS_PUBLIC_URL": "https://care.example.org",
    "REMINDERS_SECRET_KEY": "k3J9_vQ2-xLw8ZpR4tYb6NcHs1MdFgUe0aWqOiEr",
    "REMINDERS_FIELD_KEY": "x" * 44,
}


def test_good_production_settings_start():
    Settings(**GOOD)


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"TWILIO_API_BASE_URL": "http://twilio.example.org"}, "TWILIO_API_BASE_URL"),
        ({"REMINDERS_SECRET_KEY": "a" * 32}, "REMINDERS_SECRET_KEY"),
        ({"REMINDERS_SECRET_KEY": "abcd" * 10}, "REMINDERS_SECRET_KEY"),
        ({"REMINDERS_FIELD_KEY": ""}, "REMINDERS_FIELD_KEY"),
        ({"REMINDERS_SESSION_IDLE_MINUTES": "100000"}, "REMINDERS_SESSION_IDLE_MINUTES"),
        ({"REMINDERS_LOGIN_MAX_FAILURES": "100000"}, "REMINDERS_LOGIN_MAX_FAILURES"),
        ({"REMINDERS_MFA_MAX_FAILURES": "1000"}, "REMINDERS_MFA_MAX_FAILURES"),
    ],
)
def test_production_refuses_insecure_settings(change, said):
    with pytest.raises(ValidationError, match=said):
        Settings(**{**GOOD, **change})
