"""The audit log: who did or saw what (which enrollment), when and from where; and its check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reminders.adapters.db.staff.audit_seal import AuditSeal
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
    checkpoints: int  # how many signed checkpoints the file holds
    checkpoint_problem: str | None  # the first checkpoint the table no longer matches

    @property
    def intact(self) -> bool:
        return self.broken is None and self.checkpoint_problem is None


def verify(*, uow: UnitOfWork, seal: AuditSeal) -> Verification:
    """Walk the keyed chain, then hold the table to every signed checkpoint outside it.

    The chain finds a row changed, removed or inserted in the middle; the checkpoints find
    the newest rows deleted (a shorter chain is still a chain) and a chain recomputed
    from some row on (its hashes differ from the ones signed).
    """
    with uow:
        broken = first_break(uow.audit.chain(), key=seal.key)
        checkpoints = seal.checkpoints()
        problem = None
        for point in checkpoints:
            if not point.signed_by(seal.key):
                problem = f"checkpoint line {point.line} is not signed with the audit key"
            elif (stored := uow.audit.hash_of(point.id)) is None:
                problem = (
                    f"row {point.id}, checkpointed at {point.at:%Y-%m-%d %H:%M} UTC,"
                    " is gone (the newest rows were deleted)"
                )
            elif stored != point.row_hash:
                problem = (
                    f"row {point.id} no longer has the hash checkpointed at"
                    f" {point.at:%Y-%m-%d %H:%M} UTC (the chain was rewritten)"
                )
            if problem:
                break
        return Verification(uow.audit.count(), broken, len(checkpoints), problem)


def checkpoint(*, uow: UnitOfWork, seal: AuditSeal) -> tuple[int, str] | None:
    """Append a signed checkpoint of the chain's head now; the head, or None if the log is empty."""
    with uow:
        head = uow.audit.last()
    if head is None:
        return None
    seal.write(*head)
    return head[0], head[1]
