"""Enroll many texts-only patients whose texts are due now, for end-to-end runs and benchmarks."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from reminders.bootstrap import Container
from reminders.domain.commands import EnrollPatient, GiveConsent
from reminders.domain.model import Channel
from reminders.services.enrollment import enroll

ZONES = [
    "Europe/Madrid",
    "Asia/Tokyo",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Australia/Sydney",
    "Pacific/Honolulu",
    "Europe/London",
]


def daytime_zone() -> str:
    """A zone where it is mid-day now, so the sending window does not hold texts back."""
    for name in ZONES:
        if 9 <= datetime.now(ZoneInfo(name)).hour < 18:
            return name
    raise RuntimeError("no daytime zone in the list")  # pragma: no cover


def enroll_texters(c: Container, count: int, *, tag: str, now: datetime) -> list[int]:
    """Enroll `count` patients (SMS consent only) whose procedure ended an hour ago."""
    zone = daytime_zone()
    ids = []
    for n in range(count):
        result = enroll(
            EnrollPatient(
                first_name="Pat",
                last_name=f"{tag}{n}",
                phone=f"+1805556{n:04d}",
                procedure="kyphoplasty",
                performed_at=now - timedelta(hours=1),
                timezone=zone,
                external_id=f"{tag}-{n}",
                consents=(GiveConsent(Channel.SMS),),
            ),
            uow=c.uow(),
            plans=c.plans,
            policy=c.policy,
            now=now,
            via="test",
        )
        assert result.enrollment.id is not None
        ids.append(result.enrollment.id)
    return ids
