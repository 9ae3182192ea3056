"""The composition root: builds settings, database, plans, renderer and policy once for all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

import redis
from sqlalchemy import Engine

from reminders.adapters.broker import broker_app
from reminders.adapters.care_plans import CarePlanLibrary
from reminders.adapters.db.engine import make_engine
from reminders.adapters.db.migrate import is_current, upgrade
from reminders.adapters.db.staff.audit_seal import AuditSeal, audit_key
from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.adapters.field_cipher import FieldCipher
from reminders.adapters.providers.outbox import Outbox
from reminders.adapters.providers.ports import EmailProvider, SmsProvider, VoiceProvider
from reminders.adapters.providers.rate_limit import LocalTokenBucket, RateLimiter, RedisTokenBucket
from reminders.adapters.providers.smtp_email import SmtpEmail
from reminders.adapters.providers.twilio_sms import TwilioSms
from reminders.adapters.providers.twilio_voice import TwilioVoice
from reminders.adapters.rendering import MessageRenderer
from reminders.domain.planning.schedule import SchedulePolicy
from reminders.domain.planning.sms_cap import SmsCap
from reminders.domain.planning.timing import QuietHours
from reminders.services.content import Clinic, clinic_from_settings
from reminders.services.delivery.outgoing import Delivery, window_for
from reminders.services.enrollments.bundles import Planning
from reminders.settings import Settings, get_settings


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Container:
    settings: Settings
    engine: Engine
    plans: CarePlanLibrary
    renderer: MessageRenderer
    policy: SchedulePolicy
    clinic: Clinic
    delivery: Delivery
    clock: Callable[[], datetime] = field(default=utcnow)
    # Puts a task on the broker by name with its arguments (ids); web pages use it after
    # their transaction commits. Tests put a recorder here.
    send_task: Callable[..., None] = field(default=lambda name, *args: None)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.engine, self.cipher, self.audit_seal)

    @cached_property
    def audit_seal(self) -> AuditSeal:
        """The audit chain's key (never in the database) and its checkpoint file."""
        s = self.settings
        return AuditSeal(
            audit_key(s.audit_key, s.secret_key),
            s.audit_checkpoint_file or s.var_dir / "audit-checkpoints.log",
            s.audit_checkpoint_seconds,
        )

    @cached_property
    def cipher(self) -> FieldCipher:
        """Encrypts TOTP secrets at rest, with REMINDERS_FIELD_KEY or a key derived by HKDF."""
        return FieldCipher.from_settings(self.settings.field_key, self.settings.secret_key)

    @property
    def skew(self) -> timedelta:
        return timedelta(minutes=self.settings.clock_skew_minutes)

    @property
    def planning(self) -> Planning:
        """What enrolling and re-planning take: plans, policy, clock skew, phone region."""
        return Planning(
            plans=self.plans,
            policy=self.policy,
            skew=self.skew,
            default_region=self.settings.default_region,
        )


def policy_from(settings: Settings) -> SchedulePolicy:
    return SchedulePolicy(
        quiet_hours=QuietHours(start=settings.quiet_hours_start, end=settings.quiet_hours_end),
        sms_cap=SmsCap(per_day=settings.sms_per_day, per_week=settings.sms_per_week),
    )


def build_delivery(
    settings: Settings, *, plans: CarePlanLibrary, renderer: MessageRenderer, clinic: Clinic
) -> Delivery:
    """Twilio and SMTP when configured; otherwise the local outbox under ./var/outbox."""
    outbox = Outbox(settings.var_dir / "outbox")
    sms: SmsProvider = outbox
    email: EmailProvider = outbox
    voice: VoiceProvider | None = outbox
    voice_from = settings.twilio_voice_from_number or settings.twilio_from_number
    if settings.twilio_account_sid and settings.twilio_auth_token:
        # With Twilio but no number to call from, a call fails visibly (the inbox says to
        # call yourself) instead of landing in the outbox as if it had rung.
        voice = None
    if settings.twilio_account_sid and settings.twilio_auth_token and voice_from:
        voice = TwilioVoice(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            from_number=voice_from,
            api_base_url=settings.twilio_api_base_url,
            status_callback=settings.status_callback_url or "",
        )
    if settings.twilio_account_sid and settings.twilio_auth_token:
        sms = TwilioSms(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            from_number=settings.twilio_from_number,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            status_callback=settings.status_callback_url,
            api_base_url=settings.twilio_api_base_url,
            timeout=settings.twilio_timeout,
            max_in_flight=window_for(settings.sms_rate_per_second),
        )
    if settings.smtp_host:
        email = SmtpEmail(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            implicit_tls=settings.smtp_ssl,
            ca_file=settings.smtp_ca_file,
            sender=settings.email_from,
        )
    limiter: RateLimiter
    if settings.redis_url:
        limiter = RedisTokenBucket(
            redis.Redis.from_url(settings.redis_url),
            per_second=settings.sms_rate_per_second,
            burst=window_for(settings.sms_rate_per_second),  # a chunk's tokens at once
        )
    else:
        limiter = LocalTokenBucket(
            per_second=settings.sms_rate_per_second, burst=window_for(settings.sms_rate_per_second)
        )
    return Delivery(
        sms=sms,
        email=email,
        limiter=limiter,
        renderer=renderer,
        plans=plans,
        clinic=clinic,
        policy=policy_from(settings),
        send_lease=timedelta(seconds=settings.send_lease_seconds),
        queue_lease=timedelta(seconds=settings.queue_lease_seconds),
        sms_rate=settings.sms_rate_per_second,
        voice=voice,
    )


def task_sender(settings: Settings) -> Callable[..., None]:
    """Send a task by name through the broker the settings name, connecting on first use."""
    celery: Any = None

    def send(name: str, *args: object) -> None:
        nonlocal celery
        if celery is None:
            celery = broker_app(settings)
        celery.send_task(name, args=list(args))

    return send


def bootstrap(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Container:
    """Wire the service from settings; the embedded SQLite database is migrated on first use."""
    settings = settings or get_settings()
    engine = engine or make_engine(settings.database_url)
    if engine.dialect.name == "sqlite" and not is_current(engine):
        upgrade(engine)
    plans = CarePlanLibrary(settings.care_plans_dir)
    renderer = MessageRenderer(settings.templates_dir)
    clinic = clinic_from_settings(settings)
    container = Container(
        settings=settings,
        engine=engine,
        plans=plans,
        renderer=renderer,
        policy=policy_from(settings),
        clinic=clinic,
        delivery=build_delivery(settings, plans=plans, renderer=renderer, clinic=clinic),
        clock=clock,
        send_task=task_sender(settings),
    )
    container.cipher  # noqa: B018  (a malformed REMINDERS_FIELD_KEY stops the start, clearly)
    return container
