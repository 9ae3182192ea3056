"""Unit of work: one database transaction, rolled back unless the use case commits."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Connection, Engine

from reminders.adapters.db.decision_facts import DueMessages
from reminders.adapters.db.enrollments.care_repository import CareRepository
from reminders.adapters.db.enrollments.caregiver_repository import CaregiverRepository
from reminders.adapters.db.enrollments.contact_repository import ContactRepository
from reminders.adapters.db.enrollments.opt_out_repository import OptOutRepository
from reminders.adapters.db.enrollments.repository import EnrollmentRepository
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


class UnitOfWork:
    """`with uow: ...; uow.commit()`: everything inside is one transaction or nothing."""

    conn: Connection
    enrollments: EnrollmentRepository
    messages: MessageRepository  # the one writer of scheduled_messages
    message_reads: MessageReads
    due: DueMessages
    opt_outs: OptOutRepository
    staff: StaffUserRepository
    tokens: ApiTokenRepository
    audit: AuditRepository
    sessions: StaffSessionRepository
    throttle: LoginThrottleRepository
    imports: ImportRepository
    care: CareRepository
    inbound: InboundRepository
    contacts: ContactRepository
    checkins: CheckinRepository
    escalations: EscalationRepository
    notifications: NotificationRepository
    outcomes: OutcomesRepository
    caregivers: CaregiverRepository

    def __init__(
        self, engine: Engine, cipher: FieldCipher | None = None, seal: AuditSeal | None = None
    ) -> None:
        self.engine = engine
        self.cipher = cipher  # for fields encrypted at rest (TOTP secrets)
        self.seal = seal  # the audit chain's key and checkpoints

    def __enter__(self) -> UnitOfWork:
        self.conn = self.engine.connect()
        self._tx = self.conn.begin()
        self.enrollments = EnrollmentRepository(self.conn)
        self.messages = MessageRepository(self.conn)
        self.message_reads = MessageReads(self.conn)
        self.due = DueMessages(self.conn)
        self.opt_outs = OptOutRepository(self.conn)
        self.staff = StaffUserRepository(self.conn, self.cipher)
        self.tokens = ApiTokenRepository(self.conn)
        self.audit = AuditRepository(self.conn, self.seal.key if self.seal else None)
        self.sessions = StaffSessionRepository(self.conn)
        self.throttle = LoginThrottleRepository(self.conn)
        self.imports = ImportRepository(self.conn)
        self.care = CareRepository(self.conn)
        self.inbound = InboundRepository(self.conn)
        self.contacts = ContactRepository(self.conn)
        self.checkins = CheckinRepository(self.conn)
        self.escalations = EscalationRepository(self.conn)
        self.notifications = NotificationRepository(self.conn)
        self.outcomes = OutcomesRepository(self.conn)
        self.caregivers = CaregiverRepository(self.conn)
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
        self.audit.flush()  # the hash-chained audit rows go in last (see AuditRepository)
        self._tx.commit()
        if self.seal is not None:  # the head, once committed, checkpointed now and then
            self.seal.after_commit(self.audit.head)

    def rollback(self) -> None:
        self._tx.rollback()
