"""The composition root: builds settings, database, plans, renderer and policy once for all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from reminders.adapters.care_plans import CarePlanLibrary
from reminders.adapters.db import make_engine
from reminders.adapters.migrate import is_current, upgrade
from reminders.adapters.rendering import MessageRenderer
from reminders.adapters.unit_of_work import UnitOfWork
from reminders.domain.schedule import SchedulePolicy, SmsCap
from reminders.domain.timing import QuietHours
from reminders.services.content import Clinic
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
    clock: Callable[[], datetime] = field(default=utcnow)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.engine)

    @property
    def skew(self) -> timedelta:
        return timedelta(minutes=self.settings.clock_skew_minutes)


def policy_from(settings: Settings) -> SchedulePolicy:
    return SchedulePolicy(
        quiet_hours=QuietHours(start=settings.quiet_hours_start, end=settings.quiet_hours_end),
        sms_cap=SmsCap(per_day=settings.sms_per_day, per_week=settings.sms_per_week),
    )


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
    return Container(
        settings=settings,
        engine=engine,
        plans=CarePlanLibrary(settings.care_plans_dir),
        renderer=MessageRenderer(settings.templates_dir),
        policy=policy_from(settings),
        clinic=Clinic(settings.clinic_name, settings.clinic_phone, settings.discreet_sms),
        clock=clock,
    )
