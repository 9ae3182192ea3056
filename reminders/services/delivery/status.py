"""Delivery status from Twilio (callbacks, or polling when one is lost): forward only."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.adapters.providers.ports import ProviderError
from reminders.domain.enrollment.contact import mask_phone
from reminders.domain.lifecycles.message import twilio_status
from reminders.domain.model import MessageStatus
from reminders.domain.outbound.retry import (
    OPTED_OUT_CODES,
    ErrorClass,
    classify,
)
from reminders.services import audit
from reminders.services.delivery.notifications import retry_at
from reminders.services.delivery.opt_outs import opt_out

log = logging.getLogger("reminders.status")
POLL_FOR = timedelta(days=3)  # after this a text without a final status is left as it is
FAILURES = (MessageStatus.UNDELIVERED, MessageStatus.FAILED)
# What a page sent again keeps of the page the carrier could not deliver.
RETRY_COPY = (
    "escalation_id",
    "checkin_id",
    "enrollment_id",
    "kind",
    "channel",
    "step",
    "recipient",
    "language",
    "subject",
    "body",
    "deadline",
)


class StatusLookup(Protocol):
    def fetch(self, sid: str) -> tuple[str, str | None]: ...


@dataclass(frozen=True)
class StatusReport:
    sid: str
    status: str  # Twilio's word: queued, sent, delivered, undelivered, failed, read, ...
    error_code: str | None = None


def record_status(report: StatusReport, *, uow: UnitOfWork, now: datetime) -> str:
    """Apply a status report; return updated, unchanged, unknown (SID) or ignored (word)."""
    new = twilio_status(report.status)
    if new is None:
        return "ignored"
    values = _values(new, report, now)
    with uow:
        found = uow.message_reads.for_provider(report.sid)
        if found is not None:
            message_id, _, phone = found
            values.pop("status")
            updated = uow.messages.record_status(message_id, new, now=now, **values)
            if updated and report.error_code in OPTED_OUT_CODES and phone:
                opt_out(
                    uow,
                    phone,
                    source="carrier_21610",
                    detail=f"Twilio error {report.error_code}",
                    now=now,
                )
                uow.checkins.close_checkins(
                    phone, reason="the carrier says the patient opted out", now=now
                )
        elif (note := uow.notifications.notification_by_provider(report.sid)) is not None:
            note_values: dict[str, Any] = {
                k: v for k, v in values.items() if k not in ("status", "error_message")
            }
            again = None
            if new in FAILURES:
                note_values["error_message"] = values.get("error_message")
                cls = ErrorClass(values.get("error_class") or ErrorClass.TRANSIENT.value)
                again = retry_at(note, cls, now)
                note_values["next_attempt_at"] = again  # shown as "will try again"
            updated = uow.notifications.record_report(note.id, new, now=now, **note_values)
            if updated and again is not None:
                # The carrier could not deliver a page: the same page again, later, as a
                # new row of its own (a reported failure is final for the row it reports).
                uow.notifications.add_notification(
                    now=now,
                    next_attempt_at=again,
                    **{k: getattr(note, k) for k in RETRY_COPY},
                )
        else:
            log.info("status %s for unknown SID %s: acknowledged", report.status, report.sid)
            return "unknown"
        uow.commit()
    return "updated" if updated else "unchanged"


def _values(new: MessageStatus, report: StatusReport, now: datetime) -> dict[str, Any]:
    values: dict[str, Any] = {"status": new.value}
    if new is MessageStatus.DELIVERED:
        values["delivered_at"] = now
    if new in FAILURES:
        code = (report.error_code or "").strip() or None
        values["error_code"] = code
        values["error_class"] = classify(code=code).value if code else None
        values["error_message"] = f"Twilio reported {report.status}" + (
            f" (error {code})" if code else ""
        )
        values["status_reason"] = f"the carrier reported it {report.status}"
    return values


def poll_unsettled(
    *,
    uow: UnitOfWork,
    lookup: StatusLookup | None,
    now: Callable[[], datetime],
    after: timedelta,
    limit: int = 100,
) -> dict[str, int]:
    """Ask Twilio about texts still `sent` long after sending (their callback may be lost)."""
    if lookup is None:
        return {}
    counts: Counter[str] = Counter()
    with uow:
        moment = now()
        rows = uow.message_reads.unsettled_sms(
            updated_before=moment - after, sent_after=moment - POLL_FOR, limit=limit
        )
    for message_id, sid in rows:
        try:
            word, code = lookup.fetch(sid)
        except ProviderError as exc:
            log.warning("cannot poll the status of message %s: %s", message_id, exc.message)
            counts["unknown"] += 1
            continue
        outcome = record_status(StatusReport(sid, word, code), uow=uow, now=now())
        if outcome != "updated":
            with uow:  # asked: wait another period before asking about it again
                uow.messages.touch(message_id, now=now())
                uow.commit()
        counts[outcome] += 1
    return dict(counts)


# How a call ended, in Twilio's CallStatus words: answered is `delivered`; a call nobody
# picked up is `undelivered`, with the reason staff read.
CALL_ENDS: dict[str, tuple[MessageStatus, str]] = {
    "completed": (MessageStatus.DELIVERED, "answered"),
    "no-answer": (MessageStatus.UNDELIVERED, "not answered"),
    "busy": (MessageStatus.UNDELIVERED, "busy"),
    "failed": (MessageStatus.FAILED, "could not be placed"),
    "canceled": (MessageStatus.FAILED, "cancelled"),
}


def record_call_status(report: StatusReport, *, uow: UnitOfWork, now: datetime) -> str:
    """Record how an on-call call ended; one that nobody answered is put on the escalation's
    timeline and in the audit log at once, so staff see the ladder reached its top unheard."""
    word = report.status.strip().lower()
    if word not in CALL_ENDS:
        return "ignored"  # queued, ringing, in-progress: the end is what counts
    new, how = CALL_ENDS[word]
    with uow:
        note = uow.notifications.notification_by_provider(report.sid)
        if note is None:
            log.info("call status %s for unknown SID %s: acknowledged", word, report.sid)
            return "unknown"
        updated = uow.notifications.record_report(
            note.id,
            new,
            now=now,
            status_reason=f"call {how}",
            **({"delivered_at": now} if new is MessageStatus.DELIVERED else {}),
        )
        if updated and new is not MessageStatus.DELIVERED and note.escalation_id is not None:
            text = (
                f"The call to {mask_phone(note.recipient)} was {how}: call on-call staff yourself."
            )
            uow.escalations.add_note(note.escalation_id, text, now=now)
            audit.record(
                uow,
                actor="system",
                action="escalation_call_unanswered",
                detail=f"#{note.escalation_id}: the call to {mask_phone(note.recipient)} was {how}",
                now=now,
                enrollment_id=note.enrollment_id,
            )
        uow.commit()
    return "updated" if updated else "unchanged"
