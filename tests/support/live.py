"""Helpers for tests on a live container: enroll Ana, dispatch what is due, send, read a row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from reminders.adapters.db.orm import scheduled_messages
from reminders.domain.enrollment.commands import EnrollPatient, GiveConsent
from reminders.domain.model import Channel
from reminders.services.delivery.dispatch import dispatch_due
from reminders.services.delivery.sending import send_message
from reminders.services.enrollments import enrollment as enroll_svc

# 10:00 in Los Angeles; the procedure ended at 07:00, so the "+2h" first-hours step is due.
DAYTIME = datetime(2026, 5, 4, 17, 0, tzinfo=UTC)
ANA = EnrollPatient(
    first_name="Ana",
    last_name="Lopez",
    phone="+18055550142",
    email="ana@example.org",
    procedure="kyphoplasty",
    performed_at=DAYTIME - timedelta(hours=3),
    timezone="America/Los_Angeles",
    consents=(GiveConsent(Channel.SMS), GiveConsent(Channel.EMAIL)),
    enrolled_by="nurse.kim",
)


def enroll(c, cmd=ANA):
    return enroll_svc.enroll(cmd, uow=c.uow(), planning=c.planning, now=c.clock(), via="test")


def dispatch(c) -> list[int]:
    claimed: list[int] = []
    dispatch_due(uow=c.uow(), enqueue=claimed.extend, now=c.clock)
    return claimed


def send(c, mid):
    return send_message(mid, uow=c.uow(), delivery=c.delivery, now=c.clock)


def row(engine, mid):
    with engine.connect() as conn:
        return conn.execute(select(scheduled_messages).where(scheduled_messages.c.id == mid)).one()


def sms_id(ids, engine):
    return next(i for i in ids if row(engine, i).channel == "sms")
