"""The one writer of scheduled_messages: every status change is checked by the state machine.

Every change is a conditional UPDATE on the expected current status(es), so two workers,
two beats, a late duplicate task or a replayed webhook can never both win. Reads live in
message_reads.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, bindparam, insert, select, update

from reminders.adapters.orm import enrollments, patients, scheduled_messages
from reminders.domain.delivery import UNSENT, MessageStatus, Reason, check_transitions, lower_ranks
from reminders.domain.model import Channel, PlannedMessage, ScheduledMessage

M = scheduled_messages
S = MessageStatus


class MessageRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- new rows ------------------------------------------------------------------------

    def add_many(
        self, enrollment_id: int, revision: int, planned: Iterable[PlannedMessage], *, now: datetime
    ) -> None:
        rows = [_row(enrollment_id, revision, m, now) for m in planned]
        if rows:
            self.conn.execute(insert(M), rows)

    def add_resend(self, original: ScheduledMessage, *, send_at: datetime, now: datetime) -> int:
        """One new row that sends a failed message again (the unique resend_of refuses a
        second one for the same message, whoever presses the button at the same time).
        It keeps the original's opt-out line: the first text never arrived either."""
        assert original.id is not None and original.enrollment_id is not None
        again = replace(
            original,
            step_key=f"resend-{original.id}",
            send_at=send_at,
            status=S.SCHEDULED,
            status_reason=f"sent again: message {original.id}",
            reason_code=None,
            kind="resend",
            resend_of=original.id,
        )
        row = _row(original.enrollment_id, original.revision, again, now)
        key = self.conn.execute(insert(M).values(**row)).inserted_primary_key
        assert key is not None
        return int(key[0])

    # -- moves ---------------------------------------------------------------------------

    def _move(
        self,
        where: ColumnElement[bool],
        frm: Iterable[MessageStatus],
        to: MessageStatus,
        now: datetime,
        *,
        because_of: Reason | None = None,
        **values: Any,
    ) -> int:
        allowed = check_transitions(tuple(frm), to, because_of=because_of)
        result = self.conn.execute(
            update(M)
            .where(where, M.c.status.in_([s.value for s in allowed]))
            .values(status=to.value, updated_at=now, **values)
        )
        return int(result.rowcount)

    def _one(
        self,
        message_id: int,
        frm: Iterable[MessageStatus],
        to: MessageStatus,
        now: datetime,
        **values: Any,
    ) -> bool:
        return bool(self._move(M.c.id == message_id, frm, to, now, **values))

    def claim(self, ids: list[int], *, now: datetime, lease_until: datetime) -> None:
        """Mark claimed rows queued with a lease (due, or queued with a lapsed lease)."""
        if ids:
            self._move(M.c.id.in_(ids), UNSENT, S.QUEUED, now, lease_until=lease_until)

    def mark_sending(
        self, message_id: int, *, now: datetime, lease_until: datetime, body: str
    ) -> bool:
        return self._one(
            message_id,
            (S.QUEUED,),
            S.SENDING,
            now,
            lease_until=lease_until,
            last_attempt_at=now,
            body=body,
            attempts=M.c.attempts + 1,
        )

    def mark_sent(
        self, message_id: int, *, now: datetime, provider_id: str, detail: str | None = None
    ) -> bool:
        return self._one(
            message_id,
            (S.SENDING,),
            S.SENT,
            now,
            provider_id=provider_id,
            sent_at=now,
            **_why(detail, None),
        )

    def mark_sent_many(self, sent: list[tuple[int, str]], *, now: datetime) -> None:
        """Record several provider ids at once (one statement, executed for each row)."""
        check_transitions((S.SENDING,), S.SENT)
        statement = (
            update(M)
            .where(M.c.id == bindparam("mid"), M.c.status == S.SENDING.value)
            .values(
                status=S.SENT.value,
                provider_id=bindparam("pid"),
                sent_at=now,
                lease_until=None,
                updated_at=now,
                status_reason=None,
                reason_code=None,
            )
        )
        self.conn.execute(statement, [{"mid": mid, "pid": pid} for mid, pid in sent])

    def unmark_sending(self, message_id: int, *, now: datetime) -> bool:
        """Undo mark_sending for a row that never reached the provider (no token in time)."""
        return self._one(
            message_id,
            (S.SENDING,),
            S.QUEUED,
            now,
            lease_until=now,
            attempts=M.c.attempts - 1,
        )

    def retry(
        self,
        message_id: int,
        *,
        now: datetime,
        send_at: datetime,
        code: str | None,
        error: str,
        error_class: str,
    ) -> bool:
        """A transient failure (or a crash the provider has no record of): try again later."""
        return self._one(
            message_id,
            (S.SENDING,),
            S.SCHEDULED,
            now,
            send_at=send_at,
            error_code=code,
            error_message=error,
            error_class=error_class,
            **_why(f"will try again: {error}", Reason.RETRY),
        )

    def fail(
        self,
        message_id: int,
        *,
        now: datetime,
        code: str | None,
        error: str,
        error_class: str,
        reason: Reason,
        detail: str,
    ) -> bool:
        return self._one(
            message_id,
            (S.SENDING, S.QUEUED),
            S.FAILED,
            now,
            error_code=code,
            error_message=error,
            error_class=error_class,
            **_why(detail, reason),
        )

    def not_sent(
        self, message_id: int, *, now: datetime, status: MessageStatus, reason: Reason, detail: str
    ) -> bool:
        """Cancel or skip a message that never reached a provider."""
        return self._one(message_id, UNSENT, status, now, **_why(detail, reason))

    def defer(
        self, message_id: int, *, now: datetime, send_at: datetime, reason: Reason, detail: str
    ) -> bool:
        """Put a queued message back to wait (quiet hours or the SMS cap at send time)."""
        return self._one(
            message_id, (S.QUEUED,), S.SCHEDULED, now, send_at=send_at, **_why(detail, reason)
        )

    def release(self, message_id: int, *, now: datetime) -> bool:
        """Let the next dispatch claim it again at once (no rate-limit token in time)."""
        return self._one(message_id, (S.QUEUED,), S.QUEUED, now, lease_until=now)

    def record_status(
        self, message_id: int, new: MessageStatus, *, now: datetime, **values: Any
    ) -> bool:
        """Apply a provider's delivery report; a status only ever moves forward."""
        return self._one(message_id, lower_ranks(new), new, now, **values)

    def touch(self, message_id: int, *, now: datetime) -> None:
        """Note that we asked the provider about it (polling waits another period)."""
        self.conn.execute(update(M).where(M.c.id == message_id).values(updated_at=now))

    # -- many at once ----------------------------------------------------------------------

    def cancel_unsent(
        self,
        enrollment_id: int,
        *,
        reason: str,
        now: datetime,
        code: Reason = Reason.ENROLLMENT_CANCELLED,
    ) -> int:
        """Cancel every message of the enrollment not yet handed to a provider."""
        where = M.c.enrollment_id == enrollment_id
        return self._move(where, UNSENT, S.CANCELLED, now, **_why(reason, code))

    def cancel_sms_to(self, phone: str, *, detail: str, now: datetime) -> int:
        """The phone opted out: cancel every unsent text to it, at once."""
        where = M.c.id.in_(_texts_to(phone)) & (M.c.channel == Channel.SMS.value)
        return self._move(where, UNSENT, S.CANCELLED, now, **_why(detail, Reason.OPTED_OUT))

    def restore_sms_to(self, phone: str, *, now: datetime) -> int:
        """The phone opted back in: re-open texts the opt-out cancelled whose time is still
        ahead, of the current plan of active enrollments (never past ones)."""
        current = (
            _texts_to(phone)
            .where(
                enrollments.c.status == "active",
                M.c.revision == enrollments.c.revision,
                M.c.channel == Channel.SMS.value,
                M.c.reason_code == Reason.OPTED_OUT.value,
                M.c.send_at > now,
                M.c.deadline > now,
            )
            .scalar_subquery()
        )
        where = M.c.id.in_(current) & (M.c.reason_code == Reason.OPTED_OUT.value)
        why = _why("restored: the patient opted back in", Reason.RESTORED)
        return self._move(
            where, (S.CANCELLED,), S.SCHEDULED, now, because_of=Reason.OPTED_OUT, **why
        )


def _why(detail: str | None, reason: Reason | None) -> dict[str, Any]:
    """What a move records about why: the words staff read and the code; the lease ends."""
    return {"status_reason": detail, "reason_code": reason and reason.value, "lease_until": None}


def _row(enrollment_id: int, revision: int, m: PlannedMessage, now: datetime) -> dict[str, Any]:
    return {
        "enrollment_id": enrollment_id,
        "revision": revision,
        "step_key": m.step_key,
        "parts": " ".join(m.parts),
        "channel": m.channel.value,
        "category": m.category,
        "checkin": m.checkin,
        "first_sms": m.first_sms,
        "send_at": m.send_at,
        "deadline": m.deadline,
        "status": m.status.value,
        "status_reason": m.status_reason,
        "reason_code": m.reason_code.value if m.reason_code else None,
        "kind": m.kind,
        "resend_of": m.resend_of,
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }


def _texts_to(phone: str) -> Any:
    return (
        select(M.c.id)
        .join(enrollments, enrollments.c.id == M.c.enrollment_id)
        .join(patients, patients.c.id == enrollments.c.patient_id)
        .where(patients.c.phone == phone)
    )
