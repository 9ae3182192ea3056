"""The staff inbox: escalations staff see, acknowledge and resolve (audited)."""

from __future__ import annotations

from datetime import datetime

from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.domain.inbound.escalations import (
    Escalation,
    EscalationClosed,
    EscalationNotFound,
    EscalationStatus,
    InboundNotFound,
    InboundText,
)
from reminders.domain.staff.limits import NOTE_MAX, check_length
from reminders.services import audit

STILL_OPEN = (EscalationStatus.OPEN.value, EscalationStatus.ACKNOWLEDGED.value)


def open_escalations(*, uow: UnitOfWork) -> list[Escalation]:
    """Escalations not yet resolved: red flags first, newest first."""
    with uow:
        return uow.escalations.escalations(statuses=STILL_OPEN)


def recently_resolved(*, uow: UnitOfWork, limit: int = 20) -> list[Escalation]:
    """The last escalations staff resolved, newest first."""
    with uow:
        found = uow.escalations.escalations(
            statuses=(EscalationStatus.RESOLVED.value,), limit=limit
        )
    return sorted(found, key=lambda e: e.resolved_at or e.created_at, reverse=True)


def get_escalation(*, uow: UnitOfWork, escalation_id: int) -> Escalation:
    """Return one escalation with its alerts, or raise EscalationNotFound."""
    with uow:
        found = uow.escalations.escalations(ids=[escalation_id], limit=1)
    if not found:
        raise EscalationNotFound(f"no escalation {escalation_id}")
    return found[0]


def acknowledge(
    *,
    uow: UnitOfWork,
    escalation_id: int,
    by: str,
    note: str,
    now: datetime,
    client_addr: str | None = None,
) -> Escalation:
    """Say someone is on it: open -> acknowledged, with an optional note (audited, with the
    address of the request when it came from a page)."""
    return _move(uow, escalation_id, by, note, now, EscalationStatus.ACKNOWLEDGED, client_addr)


def resolve(
    *,
    uow: UnitOfWork,
    escalation_id: int,
    by: str,
    note: str,
    now: datetime,
    client_addr: str | None = None,
) -> Escalation:
    """Close an escalation with what was done (a note is required)."""
    if not note.strip():
        raise EscalationClosed("write what was done before resolving", field="note")
    return _move(uow, escalation_id, by, note, now, EscalationStatus.RESOLVED, client_addr)


def _move(
    uow: UnitOfWork,
    escalation_id: int,
    by: str,
    note: str,
    now: datetime,
    to: EscalationStatus,
    client_addr: str | None,
) -> Escalation:
    check_length(note.strip(), field="note", limit=NOTE_MAX)
    current = get_escalation(uow=uow, escalation_id=escalation_id)
    with uow:
        if to is EscalationStatus.ACKNOWLEDGED:
            moved = uow.escalations.set_escalation(
                escalation_id,
                frm=(EscalationStatus.OPEN.value,),
                now=now,
                status=to.value,
                acknowledged_at=now,
                acknowledged_by=by,
                next_page_at=None,  # the paging ladder stops here
            )
        else:
            moved = uow.escalations.set_escalation(
                escalation_id,
                frm=STILL_OPEN,
                now=now,
                status=to.value,
                resolved_at=now,
                resolved_by=by,
                next_page_at=None,
            )
        if not moved and current.status is EscalationStatus.RESOLVED:
            raise EscalationClosed(f"escalation {escalation_id} was already resolved")
        if note.strip():
            uow.escalations.add_note(escalation_id, f"{by}: {note.strip()}", now=now)
        audit.record(
            uow,
            actor=by,
            action=f"escalation_{to.value}",
            detail=f"#{escalation_id} {current.reason}"
            + (f": {note.strip()[:200]}" if note.strip() else ""),
            now=now,
            enrollment_id=current.enrollment_id,
            client_addr=client_addr,
        )
        uow.commit()
    return get_escalation(uow=uow, escalation_id=escalation_id)


def open_counts(*, uow: UnitOfWork) -> dict[str, int]:
    """Escalations not yet resolved, by kind (for /metrics)."""
    with uow:
        return uow.escalations.count_open_escalations()


def texts_needing_staff(*, uow: UnitOfWork) -> list[InboundText]:
    """Texts no rule could handle (unknown number, nothing open, unclear twice), newest first."""
    with uow:
        return uow.inbound.needing_staff()


def replies_for_enrollment(*, uow: UnitOfWork, enrollment_id: int) -> list[InboundText]:
    """Every text this enrollment's patient sent, with what was done, newest first."""
    with uow:
        return uow.inbound.inbound_for_enrollment(enrollment_id)


def mark_reviewed(*, uow: UnitOfWork, inbound_id: int, by: str, now: datetime) -> bool:
    """Record that staff handled a text; False if someone already had."""
    with uow:
        if not uow.inbound.inbound_exists(inbound_id):
            raise InboundNotFound(f"no inbound text {inbound_id}")
        done = uow.inbound.mark_reviewed(inbound_id, by=by, now=now)
        uow.commit()
        return done
