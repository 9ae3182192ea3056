"""The set-based statements message_repository.py runs: one per chunk, built once per dialect.

Each moves a whole chunk in one round trip (`id = ANY(:ids)` and `unnest(...)` on
PostgreSQL, `IN (...)` and `json_each(...)` on SQLite) and is compiled once: the cache
below hands SQLAlchemy the same statement object every time. Only the repository runs
them, after the state machine has checked the move.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Integer, Text, any_, bindparam, func, select, update
from sqlalchemy.sql import Executable

from reminders.adapters.db.orm import (
    UTCDateTime,
    caregivers,
    enrollments,
    patients,
    scheduled_messages,
)
from reminders.domain.lifecycles.message import MessageStatus

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


def _status_is(*statuses: MessageStatus) -> ColumnElement[bool]:
    # `status || ''` keeps the planners off the status index: the rows are found by id
    # (SQLite otherwise walks every queued row, 24x slower at 1M rows).
    return M.c.status.concat("").in_([s.value for s in statuses])


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
        .where(_ids(pg), _status_is(S.SCHEDULED, S.QUEUED))
        .values(status=S.QUEUED.value, updated_at=NOW, lease_until=LEASE)
    )


def _hold(pg: bool) -> Executable:
    return update(M).where(_ids(pg), _status_is(S.QUEUED)).values(updated_at=NOW, lease_until=LEASE)


def _sending(pg: bool) -> Executable:
    _, mid, _, body = _source(pg)
    return (
        update(M)
        .where(M.c.id == mid, _status_is(S.QUEUED))
        .values(
            status=S.SENDING.value,
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
        .where(M.c.id == mid, M.c.attempts == attempt, _status_is(S.SENDING))
        .values(
            status=S.SENT.value,
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
            _status_is(S.SENDING),
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
