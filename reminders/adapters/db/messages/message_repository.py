"""The one writer of scheduled_messages: every status change is a Move of the lifecycle.

Every change is a conditional UPDATE whose starting states come from the Move it makes
(domain/lifecycles/message.py), and on the attempt where one is fenced, so two workers,
two beats, a late task or a replayed webhook never both win. The hot moves are set-based
statements below, one per chunk (`id = ANY(:ids)` and `unnest(...)` on PostgreSQL,
`IN (...)` and `json_each(...)` on SQLite), compiled once: a cache hands SQLAlchemy the
same statement object every time. A plan's new rows: message_inserts.py. Reads:
message_reads.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Connection,
    Integer,
    Text,
    any_,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.sql import Executable

from reminders.adapters.db.messages import message_inserts as inserts
from reminders.adapters.db.orm import (
    UTCDateTime,
    caregivers,
    enrollments,
    patients,
    scheduled_messages,
)
from reminders.domain.lifecycles.message import (
    CANCEL,
    CLAIM,
    DEFER,
    FAIL,
    GIVE_BACK,
    HOLD,
    RENEW,
    RESTORE,
    RETRY,
    SENT,
    TAKE,
    MessageStatus,
    Move,
    Reason,
    not_sent,
    report,
)
from reminders.domain.model import Channel, PlannedMessage, ScheduledMessage

M = scheduled_messages
S = MessageStatus

# status_reason of a row whose provider call got no answer: reconciliation will ask.
ASKING = "no answer from the provider yet: it will be asked before any resend"

_cache: dict[tuple[str, str], Executable] = {}

NOW = bindparam("now", type_=UTCDateTime)
LEASE = bindparam("lease", type_=UTCDateTime)


def statement(dialect: str, kind: str) -> Executable:
    """The cached statement `kind` (claim, hold, sending, sent, heartbeat) for a dialect."""
    found = _cache.get((dialect, kind))
    if found is None:
        found = _cache[(dialect, kind)] = _BUILD[kind](dialect == "postgresql")
    return found


def rows_param(dialect: str, rows: list[tuple[int, int, str]]) -> dict[str, Any]:
    """Per-row values (id, attempt, text) as the dialect's statements take them."""
    if dialect == "postgresql":
        return {
            "ids": [r[0] for r in rows],
            "tries": [r[1] for r in rows],
            "texts": [r[2] for r in rows],
        }
    return {"data": json.dumps(rows)}


def texts_to(phone: str) -> Any:
    """Rows texted to this phone: the patient's own, or a caregiver's (kind "caregiver")."""
    to_caregiver = select(caregivers.c.enrollment_id).where(caregivers.c.phone == phone)
    return (
        select(M.c.id)
        .join(enrollments, enrollments.c.id == M.c.enrollment_id)
        .join(patients, patients.c.id == enrollments.c.patient_id)
        .where(
            ((patients.c.phone == phone) & (M.c.kind != "caregiver"))
            | ((M.c.kind == "caregiver") & M.c.enrollment_id.in_(to_caregiver))
        )
    )


@dataclass(frozen=True)
class Fence:
    """Only the attempt that marked a row `sending` (or a reconciler that read that attempt)
    may record its outcome; `lapsed` also refuses a row whose lease still runs (its worker
    is alive and may yet answer)."""

    attempt: int
    lapsed: bool = False

    def where(self, now: datetime) -> ColumnElement[bool]:
        clause = M.c.attempts == self.attempt
        return clause & (M.c.lease_until < now) if self.lapsed else clause


def _status_is(move: Move) -> ColumnElement[bool]:
    """The move's starting states. `status || ''` keeps the planners off the status index:
    the rows are found by id (SQLite otherwise walks every queued row, 24x slower at 1M)."""
    return M.c.status.concat("").in_(move.sources)


def _ids(pg: bool) -> ColumnElement[bool]:
    if pg:
        return M.c.id == any_(bindparam("ids", type_=ARRAY(Integer)))
    return M.c.id.in_(bindparam("ids", expanding=True))


def _source(pg: bool) -> tuple[Any, Any, Any, Any]:
    """A table of (id, attempt, text) rows to join: unnest of arrays, or a JSON array."""
    if pg:
        v = (
            func.unnest(
                bindparam("ids", type_=ARRAY(Integer)),
                bindparam("tries", type_=ARRAY(Integer)),
                bindparam("texts", type_=ARRAY(Text)),
            )
            .table_valued("id", "attempt", "text")
            .render_derived(name="v")
        )
        return v, v.c.id, v.c.attempt, v.c.text
    j = func.json_each(bindparam("data", type_=Text)).table_valued("value").alias("j")
    at = j.c.value
    return (
        j,
        func.json_extract(at, "$[0]"),
        func.json_extract(at, "$[1]"),
        func.json_extract(at, "$[2]"),
    )


def _claim(pg: bool) -> Executable:
    return (
        update(M)
        .where(_ids(pg), _status_is(CLAIM))
        .values(status=S.QUEUED.value, updated_at=NOW, lease_until=LEASE)
    )


def _hold(pg: bool) -> Executable:
    return update(M).where(_ids(pg), _status_is(HOLD)).values(updated_at=NOW, lease_until=LEASE)


def _sending(pg: bool) -> Executable:
    _, mid, _, body = _source(pg)
    return (
        update(M)
        .where(M.c.id == mid, _status_is(TAKE))
        .values(
            status=TAKE.to.value,
            updated_at=NOW,
            lease_until=LEASE,
            last_attempt_at=NOW,
            body=body,
            attempts=M.c.attempts + 1,
        )
        .returning(M.c.id, M.c.attempts)
    )


def _sent(pg: bool) -> Executable:
    _, mid, attempt, pid = _source(pg)
    return (
        update(M)
        .where(M.c.id == mid, M.c.attempts == attempt, _status_is(SENT))
        .values(
            status=SENT.to.value,
            provider_id=pid,
            sent_at=NOW,
            lease_until=None,
            updated_at=NOW,
            status_reason=None,
            reason_code=None,
        )
        .returning(M.c.id)
    )


def _heartbeat(pg: bool) -> Executable:
    _, mid, attempt, _ = _source(pg)
    return (
        update(M)
        .where(
            M.c.id == mid,
            M.c.attempts == attempt,
            _status_is(RENEW),
            M.c.lease_until >= NOW,  # lapsed: a reconciler may be asking about it already
        )
        .values(updated_at=NOW, lease_until=LEASE)
        .returning(M.c.id)
    )


_BUILD = {
    "claim": _claim,
    "hold": _hold,
    "sending": _sending,
    "sent": _sent,
    "heartbeat": _heartbeat,
}
# The move each cached statement makes: _batch runs a statement only as its own move.
_MOVE_OF = {"claim": CLAIM, "hold": HOLD, "sending": TAKE, "sent": SENT, "heartbeat": RENEW}


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

    def _move(self, where: ColumnElement[bool], move: Move, now: datetime, **values: Any) -> int:
        result = self.conn.execute(
            update(M)
            .where(where, M.c.status.in_(move.sources))
            .values(status=move.to.value, updated_at=now, **values)
        )
        return int(result.rowcount)

    def _one(
        self,
        message_id: int,
        move: Move,
        now: datetime,
        *,
        fence: Fence | None = None,
        **values: Any,
    ) -> bool:
        where = M.c.id == message_id
        if fence is not None:
            where = where & fence.where(now)
        return bool(self._move(where, move, now, **values))

    def _batch(self, kind: str, rows: Any = (), **params: Any) -> Any:
        """Run one cached set-based statement (its move: _MOVE_OF); `rows` are (id,
        attempt, text) per row."""
        dialect = self.conn.dialect.name
        params.update(rows_param(dialect, list(rows)) if rows else {})
        return self.conn.execute(statement(dialect, kind), params)

    def claim(self, ids: list[int], *, now: datetime, lease_until: datetime) -> None:
        """Mark claimed rows queued with a lease (due, or queued with a lapsed lease)."""
        if ids:
            self._batch("claim", ids=ids, now=now, lease=lease_until)

    def mark_sending_many(
        self, bodies: list[tuple[int, str]], *, now: datetime, lease_until: datetime
    ) -> dict[int, int]:
        """Queued -> sending, one statement; {id: attempt number} of the rows this call won."""
        rows = [(mid, 0, body) for mid, body in bodies]
        if not rows:
            return {}
        won = self._batch("sending", rows, now=now, lease=lease_until)
        return {int(r[0]): int(r[1]) for r in won}

    def mark_sending(
        self, message_id: int, *, now: datetime, lease_until: datetime, body: str
    ) -> int | None:
        """One row queued -> sending; its attempt number, or None if another took it."""
        won = self.mark_sending_many([(message_id, body)], now=now, lease_until=lease_until)
        return won.get(message_id)

    def give_back(self, attempts: list[tuple[int, int]], *, now: datetime) -> int:
        """Sending -> queued for rows never handed over (their worker could not show its lease
        was still live), each only on the attempt that took it; free for the next dispatch."""
        given = 0
        for mid, attempt in attempts:
            given += self._one(mid, GIVE_BACK, now, fence=Fence(attempt), lease_until=now)
        return given

    def mark_sent_many(self, sent: list[tuple[int, int, str]], *, now: datetime) -> set[int]:
        """Record (id, attempt, provider id) of rows still on that attempt, one statement."""
        if not sent:
            return set()
        return {int(r[0]) for r in self._batch("sent", sent, now=now)}

    def heartbeat(
        self, attempts: list[tuple[int, int]], *, now: datetime, lease_until: datetime
    ) -> set[int]:
        """Extend the leases of rows this worker still sends (same attempt, lease alive)."""
        if not attempts:
            return set()
        rows = [(m, a, "") for m, a in attempts]
        won = self._batch("heartbeat", rows, now=now, lease=lease_until)
        return {int(r[0]) for r in won}

    def hold_queued(self, ids: list[int], *, now: datetime, lease_until: datetime) -> None:
        """Set the queue lease of rows a task holds (longer while it works, `now` to let go)."""
        if ids:
            self._batch("hold", ids=ids, now=now, lease=lease_until)

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
            SENT,
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
            RENEW,
            now,
            fence=Fence(attempt),
            lease_until=lease_until,
            error_message=error,
            error_class="transient",
            status_reason=ASKING,
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
            RETRY,
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
            FAIL,
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
        return self._one(message_id, not_sent(status), now, **_why(detail, reason))

    def defer(
        self, message_id: int, *, now: datetime, send_at: datetime, reason: Reason, detail: str
    ) -> bool:
        """Put a queued message back to wait (quiet hours or the SMS cap at send time)."""
        return self._one(message_id, DEFER, now, send_at=send_at, **_why(detail, reason))

    def record_status(
        self, message_id: int, new: MessageStatus, *, now: datetime, **values: Any
    ) -> bool:
        """Apply a provider's delivery report; a status only ever moves forward."""
        return self._one(message_id, report(new), now, **values)

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
        return self._move(where, CANCEL, now, **_why(reason, code))

    def cancel_sms_to(self, phone: str, *, detail: str, now: datetime) -> int:
        """The phone opted out: cancel every unsent text to it, at once."""
        where = M.c.id.in_(texts_to(phone)) & (M.c.channel == Channel.SMS.value)
        return self._move(where, CANCEL, now, **_why(detail, Reason.OPTED_OUT))

    def restore_sms_to(self, phone: str, *, now: datetime) -> int:
        """The phone opted back in: re-open texts the opt-out cancelled whose time is still
        ahead, of the current plan of active enrollments (never past ones)."""
        current = (
            texts_to(phone)
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
        return self._move(where, RESTORE, now, **why)


def _why(detail: str | None, reason: Reason | None) -> dict[str, Any]:
    """What a move records about why: the words staff read and the code; the lease ends."""
    return {"status_reason": detail, "reason_code": reason and reason.value, "lease_until": None}
