"""Rows for repository tests: a patient, an enrollment, a check-in text, inserted directly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from sqlalchemy import Connection, insert

from reminders.adapters.db.orm import (
    checkins,
    consents,
    enrollments,
    inbound_messages,
    patients,
    scheduled_messages,
)
from reminders.domain.staff.search import patient_search_key

NOW = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)
PHONE = "+18055550142"
_keys = count(1)


def patient(conn: Connection, *, phone: str | None = PHONE, **values: Any) -> int:
    row = {
        "first_name": "Ana",
        "last_name": "Lopez",
        "phone": phone,
        "email": "ana@example.org",
        "language": "en",
        "timezone": "America/Los_Angeles",
        "created_at": NOW,
        **values,
    }
    row["search_text"] = patient_search_key(
        first_name=row["first_name"], last_name=row["last_name"], phone=phone, email=row["email"]
    )
    key = conn.execute(insert(patients).values(**row)).inserted_primary_key
    assert key is not None
    return int(key[0])


def enrollment(conn: Connection, patient_id: int, *, status: str = "active") -> int:
    key = conn.execute(
        insert(enrollments).values(
            patient_id=patient_id,
            idempotency_key=f"test-{next(_keys)}",
            procedure="lumbar_fusion",
            performed_at=NOW - timedelta(days=1),
            levels=1,
            overnight=False,
            status=status,
            revision=1,
            enrolled_by="test",
            created_at=NOW,
            updated_at=NOW,
        )
    ).inserted_primary_key
    assert key is not None
    return int(key[0])


def consent(conn: Connection, enrollment_id: int, channel: str, **values: Any) -> None:
    row = {
        "enrollment_id": enrollment_id,
        "channel": channel,
        "given": True,
        "method": "verbal",
        "recorded_by": "test",
        "recorded_at": NOW,
        "more_frequent_sms": False,
        **values,
    }
    conn.execute(insert(consents).values(**row))


def checkin_text(
    conn: Connection,
    enrollment_id: int,
    *,
    sent_at: datetime = NOW,
    status: str = "sent",
    kind: str = "pain",
) -> int:
    """A check-in question (an SMS in the plan) that reached Twilio at `sent_at`."""
    key = conn.execute(
        insert(scheduled_messages).values(
            enrollment_id=enrollment_id,
            revision=1,
            step_key=f"checkin-{next(_keys)}",
            parts="checkin",
            channel="sms",
            category="checkin",
            checkin=kind,
            first_sms=False,
            send_at=sent_at,
            deadline=sent_at + timedelta(hours=6),
            status=status,
            attempts=1,
            sent_at=sent_at,
            created_at=NOW - timedelta(days=1),
            updated_at=sent_at,
        )
    ).inserted_primary_key
    assert key is not None
    return int(key[0])


def checkin(conn: Connection, enrollment_id: int, *, status: str = "open", **values: Any) -> int:
    """A check-in row (and the text that asked it)."""
    message_id = checkin_text(conn, enrollment_id)
    row = {
        "message_id": message_id,
        "enrollment_id": enrollment_id,
        "phone": PHONE,
        "kind": "pain",
        "asked_at": NOW,
        "status": status,
        "updated_at": NOW,
        **values,
    }
    key = conn.execute(insert(checkins).values(**row)).inserted_primary_key
    assert key is not None
    return int(key[0])


def inbound(conn: Connection, *, enrollment_id: int | None = None, **values: Any) -> int:
    row = {
        "from_phone": PHONE,
        "body": "9",
        "received_at": NOW,
        "enrollment_id": enrollment_id,
        "action": "answer",
        "needs_staff": False,
        **values,
    }
    key = conn.execute(insert(inbound_messages).values(**row)).inserted_primary_key
    assert key is not None
    return int(key[0])
