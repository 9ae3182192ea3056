"""What staff work through: the open-items count beside the Inbox tab, the patient list."""

from __future__ import annotations

from datetime import datetime

from reminders.adapters.db.enrollments.care_repository import PatientPage
from reminders.adapters.db.enrollments.patient_search import PatientQuery
from reminders.adapters.db.unit_of_work import UnitOfWork


def open_items(*, uow: UnitOfWork) -> int:
    """Unresolved escalations plus patient texts nobody has handled yet."""
    with uow:
        return uow.care.open_items()


def find_patients(*, uow: UnitOfWork, query: PatientQuery, now: datetime) -> PatientPage:
    """One page of the patient list: searched, filtered and sorted as staff asked."""
    with uow:
        return uow.care.search(query, now=now)
