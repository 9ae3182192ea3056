"""ContactRepository on SQLite and PostgreSQL: who a phone is, and what they consented to."""

from __future__ import annotations

import rows
from rows import PHONE
from sqlalchemy import Engine

from reminders.adapters.db.unit_of_work import UnitOfWork


def test_a_phone_matches_its_active_enrollment_before_a_newer_cancelled_one(
    engine: Engine,
) -> None:
    with UnitOfWork(engine) as uow:
        patient_id = rows.patient(uow.conn)
        active = rows.enrollment(uow.conn, patient_id)
        cancelled = rows.enrollment(uow.conn, patient_id, status="cancelled")
        found = uow.contacts.match_phone(PHONE)
        assert found is not None
        assert (found.enrollment_id, found.first_name, found.language) == (active, "Ana", "en")
        contact = uow.contacts.enrollment_contact(cancelled)
        assert contact is not None and contact.enrollment_status == "cancelled"
        assert uow.contacts.match_phone("+18055550999") is None


def test_email_only_with_email_consent(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        enrollment_id = rows.enrollment(uow.conn, rows.patient(uow.conn))
        rows.consent(uow.conn, enrollment_id, "sms")
        assert uow.contacts.email_consented(enrollment_id) is None
        rows.consent(uow.conn, enrollment_id, "email")
        assert uow.contacts.email_consented(enrollment_id) == "ana@example.org"


def test_the_sms_cap_is_lifted_only_by_written_consent_to_more_texts(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        enrollment_id = rows.enrollment(uow.conn, rows.patient(uow.conn))
        rows.consent(uow.conn, enrollment_id, "sms", more_frequent_sms=True)  # verbal
        assert not uow.contacts.sms_cap_lifted(PHONE)
        rows.consent(uow.conn, enrollment_id, "sms", method="written", more_frequent_sms=True)
        assert uow.contacts.sms_cap_lifted(PHONE)
