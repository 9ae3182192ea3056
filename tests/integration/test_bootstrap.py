"""The composition root: the embedded default works out of the box; configured providers are used."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import inspect

from reminders.adapters.db.migrate import is_current
from reminders.adapters.providers.outbox import Outbox
from reminders.adapters.providers.rate_limit import LocalTokenBucket, RedisTokenBucket
from reminders.adapters.providers.smtp_email import SmtpEmail
from reminders.adapters.providers.twilio_sms import TwilioSms
from reminders.bootstrap import bootstrap, policy_from
from reminders.settings import Settings
from support.live import ANA, dispatch, enroll, send, sms_id

ROOT = Path(__file__).resolve().parents[2]


def embedded(tmp_path: Path, **values) -> Settings:
    """The settings a clinic starts with: nothing configured but a folder for ./var."""
    settings = Settings(
        REMINDERS_ENVIRONMENT="test",
        REMINDERS_VAR_DIR=tmp_path / "var",
        REMINDERS_CARE_PLANS_DIR=ROOT / "config" / "care_plans",
        REMINDERS_TEMPLATES_DIR=ROOT / "templates",
    )
    return settings.model_copy(update=values)


def test_the_embedded_default_migrates_its_sqlite_database_on_first_use(tmp_path):
    settings = embedded(tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'var' / 'reminders.db'}"
    (tmp_path / "var").mkdir()
    c = bootstrap(settings)
    assert c.engine.dialect.name == "sqlite"
    assert is_current(c.engine)
    assert {"patients", "enrollments", "scheduled_messages"} <= set(
        inspect(c.engine).get_table_names()
    )
    c.engine.dispose()
    again = bootstrap(settings)  # a second start finds it current and changes nothing
    assert is_current(again.engine)
    again.engine.dispose()


def test_without_credentials_every_message_goes_to_the_local_outbox(tmp_path, engine, clock):
    c = bootstrap(embedded(tmp_path), engine=engine, clock=clock)
    assert isinstance(c.delivery.sms, Outbox) and isinstance(c.delivery.email, Outbox)
    assert c.delivery.sms.folder == tmp_path / "var" / "outbox"
    assert isinstance(c.delivery.limiter, LocalTokenBucket)  # no Redis needed
    clock.now = datetime(2026, 5, 4, 17, 0, tzinfo=UTC)
    enroll(c, ANA)
    ids = dispatch(c)
    c.delivery.sms.echo = None  # type: ignore[union-attr]
    send(c, sms_id(ids, engine))
    (written,) = (tmp_path / "var" / "outbox").glob("*.json")
    assert ANA.phone in written.read_text(encoding="utf-8")


def test_twilio_smtp_and_redis_are_used_when_configured(tmp_path, engine):
    settings = embedded(
        tmp_path,
        twilio_account_sid="AC" + "0" * 32,
        twilio_auth_token="token",
        twilio_from_number="+18055550100",
        smtp_host="smtp.clinic.example",
        email_from="care@clinic.example",
        redis_url="redis://127.0.0.1:6379/15",
    )
    c = bootstrap(settings, engine=engine)
    assert isinstance(c.delivery.sms, TwilioSms)
    assert isinstance(c.delivery.email, SmtpEmail)
    assert isinstance(c.delivery.limiter, RedisTokenBucket)
    # A token without an account SID is not Twilio: the outbox keeps messages safe.
    half = bootstrap(embedded(tmp_path, twilio_auth_token="token"), engine=engine)
    assert isinstance(half.delivery.sms, Outbox)


def test_planning_and_the_policy_carry_the_clinics_settings(tmp_path, engine):
    settings = embedded(
        tmp_path,
        clock_skew_minutes=3,
        default_region="MX",
        quiet_hours_start=time(9, 0),
        quiet_hours_end=time(20, 0),
        sms_per_day=2,
        sms_per_week=5,
        clinic_name="Spine Clinic",
        send_lease_seconds=60,
    )
    c = bootstrap(settings, engine=engine)
    planning = c.planning
    assert (planning.skew, planning.default_region) == (timedelta(minutes=3), "MX")
    assert planning.plans is c.plans and planning.policy == policy_from(settings)
    assert (planning.policy.quiet_hours.start, planning.policy.quiet_hours.end) == (
        time(9, 0),
        time(20, 0),
    )
    assert (planning.policy.sms_cap.per_day, planning.policy.sms_cap.per_week) == (2, 5)
    assert c.clinic.name == "Spine Clinic"
    assert c.delivery.policy == planning.policy
    assert c.delivery.send_lease == timedelta(seconds=60)


def test_a_broker_is_not_reached_until_a_task_is_sent(tmp_path, engine):
    # Starting the web app must not need the broker: nothing listens on port 1, and
    # bootstrap still succeeds because it connects on the first task sent.
    c = bootstrap(embedded(tmp_path, broker_url="redis://127.0.0.1:1/0"), engine=engine)
    assert c.settings.broker_url == "redis://127.0.0.1:1/0"
    assert c.uow() is not c.uow()  # a fresh unit of work each time
