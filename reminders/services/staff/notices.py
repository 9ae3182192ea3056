"""One-time notices for a staff session ("Enrolled Ana Lopez."), kept server-side, not in the cookie."""

from __future__ import annotations

import json

from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.domain.staff.sessions import StaffSession


def push_flash(*, uow: UnitOfWork, session: StaffSession, kind: str, text: str) -> None:
    """Keep a one-time notice with the session (server-side: it may name a patient)."""
    with uow:
        current = uow.sessions.flash_of(session.id)
        items = json.loads(current) if current else []
        items.append([kind, text])
        uow.sessions.update(session.id, flash=json.dumps(items[-5:]))
        uow.commit()


def pop_flash(*, uow: UnitOfWork, session: StaffSession) -> list[list[str]]:
    """Take the notices waiting for this session (shown once)."""
    with uow:
        current = uow.sessions.flash_of(session.id)
        if not current:
            return []
        uow.sessions.update(session.id, flash=None)
        uow.commit()
    items: list[list[str]] = json.loads(current)
    return items
