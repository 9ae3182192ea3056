"""What waits for staff: the open-items count every staff page shows beside the Inbox tab."""

from __future__ import annotations

from reminders.adapters.unit_of_work import UnitOfWork


def open_items(*, uow: UnitOfWork) -> int:
    """Unresolved escalations plus patient texts nobody has handled yet."""
    with uow:
        return uow.care.open_items()
