"""Unit of work: one database transaction, rolled back unless the use case commits."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Connection, Engine

from reminders.adapters.accounts_repository import (
    ApiTokenRepository,
    AuditRepository,
    ImportRepository,
    StaffUserRepository,
)
from reminders.adapters.care_repository import CareRepository
from reminders.adapters.checkin_repository import CheckinRepository
from reminders.adapters.contact_repository import ContactRepository
from reminders.adapters.delivery_repository import DeliveryRepository
from reminders.adapters.escalation_repository import EscalationRepository
from reminders.adapters.inbound_repository import InboundRepository
from reminders.adapters.notification_repository import NotificationRepository
from reminders.adapters.replies_repository import RepliesRepository
from reminders.adapters.repository import EnrollmentRepository, MessageRepository


class UnitOfWork:
    """`with uow: ...; uow.commit()`: everything inside is one transaction or nothing."""

    conn: Connection
    enrollments: EnrollmentRepository
    messages: MessageRepository
    staff: StaffUserRepository
    tokens: ApiTokenRepository
    audit: AuditRepository
    imports: ImportRepository
    care: CareRepository
    delivery: DeliveryRepository
    replies: RepliesRepository
    inbound: InboundRepository
    contacts: ContactRepository
    checkins: CheckinRepository
    escalations: EscalationRepository
    notifications: NotificationRepository

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __enter__(self) -> UnitOfWork:
        self.conn = self.engine.connect()
        self._tx = self.conn.begin()
        self.enrollments = EnrollmentRepository(self.conn)
        self.messages = MessageRepository(self.conn)
        self.staff = StaffUserRepository(self.conn)
        self.tokens = ApiTokenRepository(self.conn)
        self.audit = AuditRepository(self.conn)
        self.imports = ImportRepository(self.conn)
        self.care = CareRepository(self.conn)
        self.delivery = DeliveryRepository(self.conn)
        self.replies = RepliesRepository(self.conn)
        self.inbound = InboundRepository(self.conn)
        self.contacts = ContactRepository(self.conn)
        self.checkins = CheckinRepository(self.conn)
        self.escalations = EscalationRepository(self.conn)
        self.notifications = NotificationRepository(self.conn)
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
        self._tx.commit()

    def rollback(self) -> None:
        self._tx.rollback()
