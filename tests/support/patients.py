"""Enroll many texts-only patients whose texts are due now, for end-to-end runs and benchmarks."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, insert

from reminders.adapters.db.orm import consents, enrollments, patients, scheduled_messages
from reminders.bootstrap import Container
from reminders.domain.enrollment.commands import EnrollPatient, GiveConsent
from reminders.domain.model import Channel
from reminders.services.enrollments.enrollment import enroll

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
            planning=c.planning,
            now=now,
            via="test",
        )
        assert result.enrollment.id is not None
        ids.append(result.enrollment.id)
    return ids


def due_texts_for_many(engine: Engine, count: int, *, now: datetime, tag: str) -> None:
    """`count` texters, each with their own phone and one text due now (bulk inserts).

    One text a phone: the SMS cap (one a day per phone) is checked again at send time,
    so a run that wants hundreds of texts due at once needs hundreds of phones.
    """
    zone = daytime_zone()
    with engine.begin() as conn:
        for start in range(0, count, 5000):
            size = min(5000, count - start)
            pids = (
                conn.execute(
                    insert(patients).returning(patients.c.id),
                    [
                        {
                            "first_name": "Pat",
                            "last_name": f"{tag}{n}",
                            "phone": f"+1805{5000000 + n:07d}",
                            "language": "en",
                            "timezone": zone,
                            "created_at": now,
                        }
                        for n in range(start, start + size)
                    ],
                )
                .scalars()
                .all()
            )
            eids = (
                conn.execute(
                    insert(enrollments).returning(enrollments.c.id),
                    [
                        {
                            "patient_id": pid,
                            "idempotency_key": f"{tag}:{pid}",
                            "procedure": "kyphoplasty",
                            "performed_at": now - timedelta(hours=1),
                            "levels": 1,
                            "overnight": False,
                            "status": "active",
                            "revision": 1,
                            "enrolled_by": "bench",
                            "created_at": now,
                            "updated_at": now,
                        }
                        for pid in pids
                    ],
                )
                .scalars()
                .all()
            )
            conn.execute(
                insert(consents),
                [
                    {
                        "enrollment_id": eid,
                        "channel": "sms",
                        "given": True,
                        "method": "verbal",
                        "recorded_by": "bench",
                        "recorded_at": now,
                        "more_frequent_sms": False,
                    }
                    for eid in eids
                ],
            )
            conn.execute(
                insert(scheduled_messages),
                [
                    {
                        "enrollment_id": eid,
                        "revision": 1,
                        "step_key": "return_to_work",
                        "parts": "return_to_work",
                        "channel": "sms",
                        "category": "driving_work",
                        "checkin": None,
                        "first_sms": False,
                        "send_at": now - timedelta(minutes=1),
                        "deadline": now + timedelta(hours=6),
                        "status": "scheduled",
                        "kind": "care",
                        "attempts": 0,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for eid in eids
                ],
            )
