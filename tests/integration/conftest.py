"""Fixtures of the integration tier: a container wired to a fake Twilio and a local SMTP server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from webtools import add_staff, client, login

from reminders.bootstrap import bootstrap
from reminders.domain.staff.accounts import Role
from reminders.settings import Settings
from support.fake_twilio import FakeTwilio
from support.smtp import start_smtp

# 10:00 in Los Angeles on a weekday: inside every patient's sending window.
DAYTIME = datetime(2026, 5, 4, 17, 0, tzinfo=UTC)


@pytest.fixture
def twilio():
    fake = FakeTwilio().start()
    yield fake
    fake.stop()


@pytest.fixture
def smtp():
    controller, inbox = start_smtp()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def live(settings: Settings, engine, clock, twilio, smtp):
    """A container whose SMS goes to the fake Twilio and email to the local SMTP server."""
    controller, _ = smtp
    clock.now = DAYTIME
    configured = settings.model_copy(
        update={
            "twilio_account_sid": twilio.account_sid,
            "twilio_auth_token": twilio.auth_token,
            "twilio_from_number": "+18055550100",
            "twilio_api_base_url": twilio.url,
            "smtp_host": controller.hostname,
            "smtp_port": controller.port,
            "smtp_starttls": False,
            "email_from": "Dr. Taqi Spine Care <care@clinic.example>",
            "sms_rate_per_second": 1000.0,
        }
    )
    return bootstrap(configured, engine=engine, clock=clock)


@pytest.fixture
def staff(container):
    """A test client signed in as nurse.kim, an admin."""
    add_staff(container, "nurse.kim", Role.ADMIN)
    c = client(container)
    login(c)
    return c


@pytest.fixture
def cli_runner(container, monkeypatch):
    """Runs `reminders ...` commands against the test container."""
    for module in ("main", "enrollments", "staff", "audit", "simulate"):
        monkeypatch.setattr(
            f"reminders.entrypoints.cli.{module}.container", lambda: container, raising=False
        )
    return CliRunner()
