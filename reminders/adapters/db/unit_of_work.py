"""Unit of work: one database transaction, rolled back unless the use case commits."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Generic, TypeVar, cast

from sqlalchemy import Connection, Engine

from reminders.adapters.db.decision_facts import DueMessages
from reminders.adapters.db.enrollments.care_repository import CareRepository
from reminders.adapters.db.enrollments.caregiver_repository import CaregiverRepository
from reminders.adapters.db.enrollments.contact_repository import ContactRepository
from reminders.adapters.db.enrollments.opt_out_repository import OptOutRepository
from reminders.adapters.db.enrollments.repository import EnrollmentRepository
from reminders.adapters.db.interfaces.hl7_repository import Hl7Repository
from reminders.adapters.db.interfaces.reference_repository import ReferenceRepository
from reminders.adapters.db.interfaces.writeback_repository import WritebackRepository
from reminders.adapters.db.messages.message_reads import MessageReads
from reminders.adapters.db.messages.message_repository import MessageRepository
from reminders.adapters.db.messages.notification_repository import NotificationRepository
from reminders.adapters.db.replies.checkin_repository import CheckinRepository
from reminders.adapters.db.replies.escalation_repository import EscalationRepository
from reminders.adapters.db.replies.inbound_repository import InboundRepository
from reminders.adapters.db.staff.accounts_repository import ApiTokenRepository, StaffUserRepository
from reminders.adapters.db.staff.audit_repository import AuditRepository
from reminders.adapters.db.staff.audit_seal import AuditSeal
from reminders.adapters.db.staff.import_repository import ImportRepository
from reminders.adapters.db.staff.outcomes_repository import OutcomesRepository
from reminders.adapters.db.staff.session_repository import (
    LoginThrottleRepository,
    StaffSessionRepository,
)
from reminders.adapters.field_cipher import FieldCipher

R = TypeVar("R")


class _Repository(Generic[R]):
    """A repository of the unit of work, made on first use in each transaction (a use case
    touches two or three of the twenty)."""

    def __init__(self, make: Callable[[UnitOfWork], R]) -> None:
        self.make = make
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, uow: UnitOfWork, owner: type | None = None) -> R:
        found = uow.repositories.get(self.name)
        if found is None:
            found = uow.repositories[self.name] = self.make(uow)
        return cast(R, found)


class UnitOfWork:
    """`with uow: ...; uow.commit()`: everything inside is one transaction or nothing."""

    conn: Connection
    cipher: FieldCipher | None
    seal: AuditSeal | None
    enrollments = _Repository(lambda u: EnrollmentRepository(u.conn))
    messages = _Repository(lambda u: MessageRepository(u.conn))  # the one writer of its table
    message_reads = _Repository(lambda u: MessageReads(u.conn))
    due = _Repository(lambda u: DueMessages(u.conn))
    opt_outs = _Repository(lambda u: OptOutRepository(u.conn))
    staff = _Repository(lambda u: StaffUserRepository(u.conn, u.cipher))
    tokens = _Repository(lambda u: ApiTokenRepository(u.conn))
    audit = _Repository(lambda u: AuditRepository(u.conn, u.seal.key if u.seal else None))
    sessions = _Repository(lambda u: StaffSessionRepository(u.conn))
    throttle = _Repository(lambda u: LoginThrottleRepository(u.conn))
    imports = _Repository(lambda u: ImportRepository(u.conn))
    care = _Repository(lambda u: CareRepository(u.conn))
    inbound = _Repository(lambda u: InboundRepository(u.conn))
    contacts = _Repository(lambda u: ContactRepository(u.conn))
    checkins = _Repository(lambda u: CheckinRepository(u.conn))
    escalations = _Repository(lambda u: EscalationRepository(u.conn))
    notifications = _Repository(lambda u: NotificationRepository(u.conn))
    outcomes = _Repository(lambda u: OutcomesRepository(u.conn))
    caregivers = _Repository(lambda u: CaregiverRepository(u.conn))
    hl7 = _Repository(lambda u: Hl7Repository(u.conn))
    refs = _Repository(lambda u: ReferenceRepository(u.conn))
    writeback = _Repository(lambda u: WritebackRepository(u.conn))

    def __init__(
        self, engine: Engine, cipher: FieldCipher | None = None, seal: AuditSeal | None = None
    ) -> None:
        self.engine = engine
        self.cipher = cipher  # for fields encrypted at rest (TOTP secrets)
        self.repositories: dict[str, object] = {}
        self.seal = seal  # the audit chain's key and checkpoints

    def __enter__(self) -> UnitOfWork:
        self.conn = self.engine.connect()
        self._tx = self.conn.begin()
        self.repositories = {}
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._tx.is_active:
                self._tx.rollback()
        finally:
            self.conn.close()

    def commit(self) -> None:
        audited = "audit" in self.repositories
        if audited:  # the hash-chained audit rows go in last (see AuditRepository)
            self.audit.flush()
        self._tx.commit()
        if audited and self.seal is not None:  # the head, once committed, checkpointed now and then
            self.seal.after_commit(self.audit.head)

    def rollback(self) -> None:
        self._tx.rollback()
