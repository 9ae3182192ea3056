"""The one writer of scheduled_messages: every status change is checked by the state machine.

Every change is a conditional UPDATE on the expected current status(es) (and attempt),
so two workers, two beats, a late task or a replayed webhook never both win; hot moves
are one cached statement per chunk (message_batches.py). Reads: message_reads.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, insert, update

from reminders.adapters.db.messages import message_batches as sql
from reminders.adapters.db.messages import message_inserts as inserts
from reminders.adapters.db.messages.message_batches import Fence
from reminders.adapters.db.orm import enrollments, scheduled_messages
from reminders.domain.lifecycles.message import (
    UNSENT,
    MessageStatus,
    Reason,
    check_transitions,
    lower_ranks,
)
from reminders.domain.model import Channel, PlannedMessage, ScheduledMessage

M = scheduled_messages
S = MessageStatus


class MessageRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add_many(
        self, enrollment_id: int, revision: int, planned: Iterable[PlannedMessage], *, now: datetime
    ) -> list[ScheduledMessage]:
        """Insert the planned rows in one statement; return them as stored, in plan order
        (message_inserts.py), so the caller needs no read-back."""
        wanted = list(planned)
        if not wanted:
            return []
        dialect = self.conn.dialect.name
        stmt, params, rows = inserts.plan_statement(dialect, enrollment_id, revision, wanted, now)
        return inserts.stored(wanted, rows, self.conn.execute(stmt, params))

    def add_resend(self, original: ScheduledMessage, *, send_at: datetime, now: datetime) -> int:
        """One new row that sends a failed message again, once (resend_of is unique); it
        keeps the original's opt-out line: the first text never arrived either."""
        assert original.id is not None and original.enrollment_id is not None
        again = replace(
            original,
            step_key=f"resend-{original.id}",
            send_at=send_at,
            status=S.SCHEDULED,
            status_reason=f"sent again: message {original.id}",
            reason_code=None,
            # A caregiver's text sent again still goes to the caregiver.
            kind="caregiver" if original.kind == "caregiver" else "resend",
            resend_of=original.id,
        )
        row = inserts.insert_row(original.enrollment_id, original.revision, again, now)
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
        *,
        fence: Fence | None = None,
        **values: Any,
    ) -> bool:
        where = M.c.id == message_id
        if fence is not None:
            where = where & fence.where(now)
        return bool(self._move(where, frm, to, now, **values))

    def _batch(self, kind: str, frm: Iterable[S], to: S, rows: Any = (), **params: Any) -> Any:
        """Run one cached set-based statement (message_batches.py) after checking its move;
        `rows` are (id, attempt, text) per row."""
        check_transitions(tuple(frm), to)
        dialect = self.conn.dialect.name
        params.update(sql.rows_param(dialect, list(rows)) if rows else {})
        return self.conn.execute(sql.statement(dialect, kind), params)

    def claim(self, ids: list[int], *, now: datetime, lease_until: datetime) -> None:
        """Mark claimed rows queued with a lease (due, or queued with a lapsed lease)."""
        if ids:
            self._batch("claim", UNSENT, S.QUEUED, ids=ids, now=now, lease=lease_until)

    def mark_sending_many(
        self, bodies: list[tuple[int, str]], *, now: datetime, lease_until: datetime
    ) -> dict[int, int]:
        """Queued -> sending, one statement; {id: attempt number} of the rows this call won."""
        rows = [(mid, 0, body) for mid, body in bodies]
        if not rows:
            return {}
        won = self._batch("sending", (S.QUEUED,), S.SENDING, rows, now=now, lease=lease_until)
        return {int(r[0]): int(r[1]) for r in won}

    def mark_sending(
        self, message_id: int, *, now: datetime, lease_until: datetime, body: str
    ) -> int | None:
        """One row queued -> sending; its attempt number, or None if another took it."""
        won = self.mark_sending_many([(message_id, body)], now=now, lease_until=lease_until)
        return won.get(message_id)

    def mark_sent_many(self, sent: list[tuple[int, int, str]], *, now: datetime) -> set[int]:
        """Record (id, attempt, provider id) of rows still on that attempt, one statement."""
        if not sent:
            return set()
        return {int(r[0]) for r in self._batch("sent", (S.SENDING,), S.SENT, sent, now=now)}

    def heartbeat(
        self, attempts: list[tuple[int, int]], *, now: datetime, lease_until: datetime
    ) -> set[int]:
        """Extend the leases of rows this worker still sends (same attempt, lease alive)."""
        if not attempts:
            return set()
        rows = [(m, a, "") for m, a in attempts]
        won = self._batch("heartbeat", (S.SENDING,), S.SENDING, rows, now=now, lease=lease_until)
        return {int(r[0]) for r in won}

    def hold_queued(self, ids: list[int], *, now: datetime, lease_until: datetime) -> None:
        """Set the queue lease of rows a task holds (longer while it works, `now` to let go)."""
        if ids:
            self._batch("hold", (S.QUEUED,), S.QUEUED, ids=ids, now=now, lease=lease_until)

    def mark_sent(
        self,
        message_id: int,
        *,
        now: datetime,
        provider_id: str,
        detail: str | None = None,
        fence: Fence | None = None,
    ) -> bool:
        return self._one(
            message_id,
            (S.SENDING,),
            S.SENT,
            now,
            fence=fence,
            provider_id=provider_id,
            sent_at=now,
            **_why(detail, None),
        )

    def outcome_unknown(
        self, message_id: int, *, now: datetime, attempt: int, lease_until: datetime, error: str
    ) -> bool:
        """The provider may have taken it: stay `sending` until reconciliation asks."""
        return self._one(
            message_id,
            (S.SENDING,),
            S.SENDING,
            now,
            fence=Fence(attempt),
            lease_until=lease_until,
            error_message=error,
            error_class="transient",
            status_reason=sql.ASKING,
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
        fence: Fence | None = None,
    ) -> bool:
        """A transient failure (or a crash the provider has no record of): try again later."""
        return self._one(
            message_id,
            (S.SENDING,),
            S.SCHEDULED,
            now,
            fence=fence,
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
        fence: Fence | None = None,
    ) -> bool:
        return self._one(
            message_id,
            (S.SENDING, S.QUEUED),
            S.FAILED,
            now,
            fence=fence,
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

    def record_status(
        self, message_id: int, new: MessageStatus, *, now: datetime, **values: Any
    ) -> bool:
        """Apply a provider's delivery report; a status only ever moves forward."""
        return self._one(message_id, lower_ranks(new), new, now, **values)

    def touch(self, message_id: int, *, now: datetime) -> None:  # we asked the provider
        self.conn.execute(update(M).where(M.c.id == message_id).values(updated_at=now))

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
        where = M.c.id.in_(sql.texts_to(phone)) & (M.c.channel == Channel.SMS.value)
        return self._move(where, UNSENT, S.CANCELLED, now, **_why(detail, Reason.OPTED_OUT))

    def restore_sms_to(self, phone: str, *, now: datetime) -> int:
        """The phone opted back in: re-open texts the opt-out cancelled whose time is still
        ahead, of the current plan of active enrollments (never past ones)."""
        current = (
            sql.texts_to(phone)
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
