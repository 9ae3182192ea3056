"""The audit log: who did or saw what (which enrollment), when and from where; and its check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.domain.staff.accounts import AuditEntry
from reminders.domain.staff.audit_chain import Break, first_break


def record(
    uow: UnitOfWork,
    *,
    actor: str,
    action: str,
    detail: str,
    now: datetime,
    enrollment_id: int | None = None,
    client_addr: str | None = None,
) -> None:
    """Add an entry inside the caller's transaction, so the action and its record commit together."""
    uow.audit.add(
        AuditEntry(
            at=now,
            actor=actor,
            action=action,
            detail=detail,
            enrollment_id=enrollment_id,
            client_addr=client_addr,
        )
    )


def record_read(
    *,
    uow: UnitOfWork,
    actor: str,
    what: str,
    now: datetime,
    enrollment_id: int | None = None,
    client_addr: str | None = None,
) -> None:
    """Record that someone saw patient data (a page, an API read, a search, an export).

    `what` names the view and its parameters (e.g. "patient page", "search: 3 results"),
    never the patient's details: the log itself must not become a copy of the records.
    """
    with uow:
        record(
            uow,
            actor=actor,
            action="read",
            detail=what,
            now=now,
            enrollment_id=enrollment_id,
            client_addr=client_addr,
        )
        uow.commit()


def record_event(
    *,
    uow: UnitOfWork,
    actor: str,
    action: str,
    detail: str,
    now: datetime,
    enrollment_id: int | None = None,
    client_addr: str | None = None,
) -> None:
    """Record, in a transaction of its own, a request that changed nothing (a no-op, a replay)."""
    with uow:
        record(
            uow,
            actor=actor,
            action=action,
            detail=detail,
            now=now,
            enrollment_id=enrollment_id,
            client_addr=client_addr,
        )
        uow.commit()


def recent_entries(
    *,
    uow: UnitOfWork,
    limit: int = 200,
    enrollment_id: int | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    offset: int = 0,
) -> list[AuditEntry]:
    """Return the newest entries first, optionally for one enrollment, actor, action or time."""
    with uow:
        return uow.audit.recent(
            limit=limit,
            enrollment_id=enrollment_id,
            actor=actor or None,
            action=action or None,
            since=since,
            until=until,
            offset=offset,
        )


def actions(*, uow: UnitOfWork) -> list[str]:
    """The kinds of entry the log holds."""
    with uow:
        return uow.audit.actions()


@dataclass(frozen=True)
class Verification:
    rows: int
    broken: Break | None


def verify(*, uow: UnitOfWork) -> Verification:
    """Walk the whole hash chain; name the first row that was changed, removed or inserted."""
    with uow:
        return Verification(rows=uow.audit.count(), broken=first_break(uow.audit.chain()))
