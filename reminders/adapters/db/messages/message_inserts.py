"""New scheduled_messages rows: a whole plan in one INSERT that returns the rows as stored.

Only message_repository.py runs these: this module builds them and executes nothing.
On PostgreSQL the plan goes in as one array per column (`INSERT ... SELECT ... FROM
unnest(...)`): the statement text never changes, so it is parsed and prepared once,
however many rows a plan has. SQLite takes SQLAlchemy's multi-row VALUES. Either way
the insert returns each row's id with its unique key (step, channel), so the caller has
every stored row without reading them back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    Boolean,
    DateTime,
    Integer,
    Text,
    bindparam,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.sql import Executable

from reminders.adapters.db.orm import UTCDateTime, scheduled_messages
from reminders.domain.model import PlannedMessage, ScheduledMessage

M = scheduled_messages

# The per-row columns of a plan, with their PostgreSQL array element types.
_PER_ROW: dict[str, Any] = {
    "step_key": Text,
    "parts": Text,
    "channel": Text,
    "category": Text,
    "checkin": Text,
    "first_sms": Boolean,
    "send_at": DateTime(timezone=True),
    "deadline": DateTime(timezone=True),
    "status": Text,
    "status_reason": Text,
    "reason_code": Text,
    "kind": Text,
    "resend_of": Integer,
}
_RETURNED = (M.c.id, M.c.step_key, M.c.channel)
_cache: dict[str, Executable] = {}


def insert_row(
    enrollment_id: int, revision: int, m: PlannedMessage, now: datetime
) -> dict[str, Any]:
    return {
        "enrollment_id": enrollment_id,
        "revision": revision,
        "step_key": m.step_key,
        "parts": " ".join(m.parts),
        "channel": m.channel.value,
        "category": m.category,
        "checkin": m.checkin,
        "first_sms": m.first_sms,
        "send_at": _utc(m.send_at),
        "deadline": _utc(m.deadline),
        "status": m.status.value,
        "status_reason": m.status_reason,
        "reason_code": m.reason_code.value if m.reason_code else None,
        "kind": m.kind,
        "resend_of": m.resend_of,
        "attempts": 0,
        "created_at": _utc(now),
        "updated_at": _utc(now),
    }


def plan_statement(
    dialect: str,
    enrollment_id: int,
    revision: int,
    planned: Sequence[PlannedMessage],
    now: datetime,
) -> tuple[Executable, Any, list[dict[str, Any]]]:
    """The cached INSERT for a plan, its parameters, and the rows it writes.

    The repository runs it (it alone writes the table) and hands the result to stored().
    """
    rows = [insert_row(enrollment_id, revision, m, now) for m in planned]
    if dialect != "postgresql":
        return _statement(dialect), rows, rows
    params: dict[str, Any] = {name: [r[name] for r in rows] for name in _PER_ROW}
    params.update(enrollment_id=enrollment_id, revision=revision, now=_utc(now))
    return _statement(dialect), params, rows


def stored(
    planned: Sequence[PlannedMessage], rows: list[dict[str, Any]], returned: Iterable[Any]
) -> list[ScheduledMessage]:
    """The rows as stored, in plan order: each matched to its id by its unique key."""
    ids = {(r.step_key, r.channel): r.id for r in returned}
    if len(ids) != len(rows):  # pragma: no cover - the unique key makes this unreachable
        raise RuntimeError(f"inserted {len(ids)} of {len(rows)} planned rows")
    return [
        _stored(m, r, ids[(r["step_key"], r["channel"])])
        for m, r in zip(planned, rows, strict=True)
    ]


def _stored(m: PlannedMessage, row: dict[str, Any], id: int) -> ScheduledMessage:
    """The row insert_row wrote, as a read gives it back (times in UTC)."""
    return ScheduledMessage(
        id=id,
        enrollment_id=row["enrollment_id"],
        revision=row["revision"],
        step_key=m.step_key,
        parts=tuple(row["parts"].split()),
        channel=m.channel,
        category=m.category,
        checkin=m.checkin,
        first_sms=m.first_sms,
        send_at=row["send_at"],
        deadline=row["deadline"],
        status=m.status,
        status_reason=m.status_reason,
        reason_code=m.reason_code,
        kind=m.kind,
        resend_of=m.resend_of,
        attempts=0,
        updated_at=row["updated_at"],
    )


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to the database; use an aware one")
    return moment.astimezone(UTC)


def _statement(dialect: str) -> Executable:
    found = _cache.get(dialect)
    if found is None:
        found = _cache[dialect] = _build(dialect == "postgresql")
    return found


def _build(pg: bool) -> Executable:
    if not pg:
        return insert(M).returning(*_RETURNED)
    u = (
        func.unnest(*(bindparam(n, type_=ARRAY(t)) for n, t in _PER_ROW.items()))
        .table_valued(*_PER_ROW)
        .render_derived(name="u")
    )
    now = bindparam("now", type_=UTCDateTime)
    columns = [
        bindparam("enrollment_id", type_=Integer),
        bindparam("revision", type_=Integer),
        *(u.c[n] for n in _PER_ROW),
        literal(0),
        now,
        now,
    ]
    names = ["enrollment_id", "revision", *_PER_ROW, "attempts", "created_at", "updated_at"]
    return insert(M).from_select(names, select(*columns).select_from(u)).returning(*_RETURNED)
