"""The audit log: who did what to which enrollment, and when."""

from __future__ import annotations

from datetime import datetime

from reminders.adapters.unit_of_work import UnitOfWork
from reminders.domain.accounts import AuditEntry


def record(
    uow: UnitOfWork,
    *,
    actor: str,
    action: str,
    detail: str,
    now: datetime,
    enrollment_id: int | None = None,
) -> None:
    """Add an entry inside the caller's transaction, so the action and its record commit together."""
    uow.audit.add(
        AuditEntry(at=now, actor=actor, action=action, detail=detail, enrollment_id=enrollment_id)
    )


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
