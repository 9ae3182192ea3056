"""Settings: safe defaults in development, refused defaults in production."""

from __future__ import annotations

import pytest

from reminders.settings import Settings


def test_production_refuses_the_default_secret():
    prod = {
        "REMINDERS_ENVIRONMENT": "production",
        "REMINDERS_DATABASE_URL": "postgresql+psycopg://x@y/z",
        "REMINDERS_BROKER_URL": "redis://y",
        "TWILIO_ACCOUNT_SID": "AC1",
        "TWILIO_AUTH_TOKEN": "t",
        "REMINDERS_CLINIC_NAME": "Valley Spine",
        "REMINDERS_CLINIC_PHONE": "805-555-0100",
        "SMTP_HOST": "smtp.example.org",
        "EMAIL_FROM": "care@example.org",
        "REMINDERS_PUBLIC_URL": "https://reminders.clinic.example",
    }
    with pytest.raises(ValueError, match="REMINDERS_SECRET_KEY"):
        Settings(**prod)
    # A random key (issue 22: "k" * 40 is now refused as a pattern) and a field key.
    key = "k3J9_vQ2-xLw8ZpR4tYb6NcHs1MdFgUe0aWqOiEr"
    started = Settings(**prod, REMINDERS_SECRET_KEY=key, REMINDERS_FIELD_KEY="x" * 44)
    assert started.secret_key == key


def test_production_refuses_the_demo_clinic_and_a_missing_smtp_server():
    prod = {
        "REMINDERS_ENVIRONMENT": "production",
        "REMINDERS_DATABASE_URL": "postgresql+psycopg://x@y/z",
        "REMINDERS_BROKER_URL": "redis://y",
        "TWILIO_ACCOUNT_SID": "AC1",
        "TWILIO_AUTH_TOKEN": "t",
        "REMINDERS_SECRET_KEY": "k3J9_vQ2-xLw8ZpR4tYb6NcHs1MdFgUe0aWqOiEr",
    }
    with pytest.raises(ValueError) as err:
        Settings(**prod)
    for name in ("REMINDERS_CLINIC_NAME", "REMINDERS_CLINIC_PHONE", "SMTP_HOST", "EMAIL_FROM"):
        assert name in str(err.value)


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("REMINDERS_DATABASE_URL", "REMINDERS_BROKER_URL", "REMINDERS_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir("/")  # no .env file from the checkout


def test_with_no_settings_the_embedded_default_needs_no_server(clean_env, tmp_path):
    s = Settings(REMINDERS_VAR_DIR=tmp_path)
    assert s.database_url == f"sqlite:///{tmp_path / 'reminders.db'}"
    assert s.embedded_broker
    assert s.redis_url == ""


def test_a_redis_broker_is_also_the_rate_limit_store(clean_env):
    s = Settings(REMINDERS_BROKER_URL="redis://cache:6379/0")
    assert not s.embedded_broker
    assert s.redis_url == "redis://cache:6379/0"
    own = Settings(REMINDERS_BROKER_URL="redis://cache:6379/0", REMINDERS_REDIS_URL="redis://rl")
    assert own.redis_url == "redis://rl"


def test_settings_come_from_the_environment(clean_env, monkeypatch):
    monkeypatch.setenv("REMINDERS_CLINIC_NAME", "Valley Spine")
    monkeypatch.setenv("REMINDERS_SMS_PER_DAY", "2")
    s = Settings()
    assert (s.clinic_name, s.sms_per_day) == ("Valley Spine", 2)


def test_the_staff_language_is_english_unless_set_to_a_supported_one(clean_env, monkeypatch):
    assert Settings().staff_language == "en"
    monkeypatch.setenv("REMINDERS_STAFF_LANGUAGE", "es")
    assert Settings().staff_language == "es"
    monkeypatch.setenv("REMINDERS_STAFF_LANGUAGE", "fr")
    with pytest.raises(ValueError, match="REMINDERS_STAFF_LANGUAGE"):
        Settings()


def test_twilio_is_told_to_call_back_at_the_public_url(clean_env):
    s = Settings(REMINDERS_PUBLIC_URL="https://care.example.org/")
    assert s.status_callback_url == "https://care.example.org/webhooks/twilio/status"


def test_production_refuses_sqlite(clean_env):
    with pytest.raises(ValueError, match="REMINDERS_DATABASE_URL"):
        Settings(
            REMINDERS_ENVIRONMENT="production",
            REMINDERS_DATABASE_URL="sqlite:///var/reminders.db",
            REMINDERS_BROKER_URL="redis://y",
        )


def test_a_nonsense_limit_is_refused(clean_env):
    with pytest.raises(ValueError, match="REMINDERS_SMS_PER_DAY"):
        Settings(REMINDERS_SMS_PER_DAY=0)
