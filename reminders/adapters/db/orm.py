"""SQLAlchemy tables, kept apart from the domain; the same schema on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

# The intake rules refuse what would not fit, so the stored sizes come from there.
from reminders.domain.enrollment.caregiver import RELATIONSHIP_MAX
from reminders.domain.enrollment.fields import (
    ACTOR_MAX,
    EMAIL_MAX,
    KEY_MAX,
    LANGUAGE_MAX,
    NAME_MAX,
    PHONE_MAX,
    PROCEDURE_MAX,
    TIMEZONE_MAX,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always returns them aware (SQLite drops zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


patients = Table(
    "patients",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("first_name", String(NAME_MAX), nullable=False),
    Column("last_name", String(NAME_MAX), nullable=False),
    Column("phone", String(PHONE_MAX), index=True),
    Column("email", String(EMAIL_MAX)),
    Column("language", String(LANGUAGE_MAX), nullable=False),
    Column("timezone", String(TIMEZONE_MAX), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # Folded names, phone digits and email (domain/staff/search.py): accent- and case-blind search
    # that works the same on SQLite and PostgreSQL, written with the patient.
    Column("search_text", Text, nullable=False, server_default=""),
)

enrollments = Table(
    "enrollments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("patient_id", ForeignKey("patients.id"), nullable=False, index=True),
    Column("idempotency_key", String(KEY_MAX), nullable=False, unique=True),
    Column("procedure", String(PROCEDURE_MAX), nullable=False),
    Column("performed_at", UTCDateTime, nullable=False),
    Column("levels", Integer, nullable=False),
    Column("overnight", Boolean, nullable=False),
    Column("external_id", String(KEY_MAX)),
    Column("status", String(16), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("enrolled_by", String(ACTOR_MAX), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

consents = Table(
    "consents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("enrollment_id", ForeignKey("enrollments.id"), nullable=False, index=True),
    Column("channel", String(8), nullable=False),
    Column("given", Boolean, nullable=False),
    Column("method", String(16), nullable=False),
    Column("recorded_by", String(ACTOR_MAX), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("more_frequent_sms", Boolean, nullable=False),
)

scheduled_messages = Table(
    "scheduled_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("enrollment_id", ForeignKey("enrollments.id"), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("step_key", String(200), nullable=False),
    Column("parts", Text, nullable=False),  # step keys, space-separated
    Column("channel", String(8), nullable=False),
    Column("category", String(32), nullable=False),
    Column("checkin", String(16)),
    Column("first_sms", Boolean, nullable=False),
    Column("send_at", UTCDateTime, nullable=False),
    Column("deadline", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("status_reason", Text),  # what staff read
    Column("reason_code", String(32)),  # the same as a value code matches (domain Reason)
    Column("kind", String(16), nullable=False, server_default="care"),  # care|resend|caregiver
    Column("resend_of", ForeignKey("scheduled_messages.id"), unique=True),  # once per message
    Column("attempts", Integer, nullable=False, default=0),
    Column("lease_until", UTCDateTime),
    Column("provider_id", String(64)),
    Column("error_code", String(16)),
    Column("error_message", Text),
    Column("error_class", String(16)),  # transient | permanent | opted_out
    Column("last_attempt_at", UTCDateTime),  # reconciliation asks the provider from here
    Column("body", Text),  # what went out: the SMS text or the email subject
    Column("sent_at", UTCDateTime),
    Column("delivered_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("enrollment_id", "revision", "step_key", "channel"),
    # The dispatcher's query: due rows by status and time; recovery: leases by status.
    Index("ix_scheduled_messages_due", "status", "send_at"),
    Index("ix_scheduled_messages_lease", "status", "lease_until"),
    Index("ix_scheduled_messages_enrollment", "enrollment_id", "send_at"),
    Index("ix_scheduled_messages_provider_id", "provider_id"),
)

# An optional second recipient per enrollment (domain/enrollment/caregiver.py): its scheduled_messages
# rows have kind "caregiver" and go to this phone or address, never the patient's.
caregivers = Table(
    "caregivers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("enrollment_id", ForeignKey("enrollments.id"), nullable=False, unique=True),
    Column("name", String(NAME_MAX), nullable=False),
    Column("relationship", String(RELATIONSHIP_MAX), nullable=False),
    Column("phone", String(PHONE_MAX), index=True),
    Column("email", String(EMAIL_MAX)),
    Column("language", String(LANGUAGE_MAX), nullable=False),
    Column("sms_consent", Boolean, nullable=False),
    Column("email_consent", Boolean, nullable=False),
    Column("recorded_by", String(ACTOR_MAX), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# One row per phone number that ever opted out of SMS; `active` is the current state.
sms_opt_outs = Table(
    "sms_opt_outs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("phone", String(20), nullable=False, unique=True),
    Column("active", Boolean, nullable=False),
    Column("source", String(32), nullable=False),  # keyword | carrier_21610 | staff
    Column("detail", Text),  # the keyword sent, the error text, the staff note
    Column("opted_out_at", UTCDateTime, nullable=False),
    Column("opted_in_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Staff accounts, API tokens, the audit log and CSV import runs (the staff app).
staff_users = Table(
    "staff_users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(100), nullable=False, unique=True),
    Column("full_name", String(200), nullable=False),
    Column("role", String(16), nullable=False),  # staff | admin
    Column("password_hash", String(255), nullable=False),  # argon2id
    Column("active", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_login_at", UTCDateTime),
    # TOTP (RFC 6238): the shared secret, set at enrolment; enabled once a code confirmed it.
    Column("totp_secret", String(255)),  # "fernet:" + token (adapters/field_cipher.py)
    Column("totp_enabled_at", UTCDateTime),
    Column("totp_last_step", Integer),  # the last 30-second step accepted: a code works once
)

# Server-side staff sessions: the cookie carries only a random id, stored here as SHA-256,
# so ending a row (logout, password or role change, disable, timeout) ends the session.
staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", ForeignKey("staff_users.id"), nullable=False, index=True),
    Column("stage", String(8), nullable=False),  # mfa | enrol (half signed in) | ok
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime),
    Column("ended_reason", String(32)),
    Column("client_addr", String(64)),
    Column(
        "flash", Text
    ),  # one-time notices as JSON: they may name a patient, so not in the cookie
)

# Failed sign-ins per account and per client address ("account:NAME", "address:IP").
login_throttle = Table(
    "login_throttle",
    metadata,
    Column("key", String(140), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_start", UTCDateTime, nullable=False),
    Column("locked_until", UTCDateTime),
)

# One-time recovery codes for a lost authenticator; only a SHA-256 of each is kept.
recovery_codes = Table(
    "recovery_codes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", ForeignKey("staff_users.id"), nullable=False, index=True),
    Column("code_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
)

# Only a SHA-256 of each token is kept: tokens are random, so a slow hash adds nothing.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),  # shown in lists to tell tokens apart
    Column("created_by", String(100), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
    # Space-separated scopes (domain/accounts.Scope); tokens made before scopes have all.
    Column("scopes", String(100), nullable=False, server_default="enroll fhir metrics read"),
    Column("expires_at", UTCDateTime),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("actor", String(120), nullable=False),  # a staff username or "token:<name>"
    Column("action", String(40), nullable=False),
    Column("enrollment_id", Integer, index=True),  # no foreign key: the log outlives rows
    Column("detail", Text, nullable=False),
    Column("client_addr", String(64)),  # where the request came from, when it was a request
    # Tamper evidence: row_hash = sha256(prev_hash + this row's content); see domain/audit_chain.
    Column("prev_hash", String(64), nullable=False),
    Column("row_hash", String(64), nullable=False),
)

import_runs = Table(
    "import_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("filename", String(255), nullable=False),
    Column("created_by", String(120), nullable=False),
    Column("status", String(16), nullable=False),  # running | done | failed
    Column("total", Integer, nullable=False),
    Column("processed", Integer, nullable=False),
    Column("enrolled", Integer, nullable=False),
    Column("duplicates", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("error", Text),  # why a whole run failed
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
)

import_rows = Table(
    "import_rows",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", ForeignKey("import_runs.id"), nullable=False, index=True),
    Column("row_number", Integer, nullable=False),  # the line in the file, header = 1
    Column("outcome", String(16), nullable=False),  # enrolled | duplicate | rejected
    Column("enrollment_id", Integer),
    Column("patient", String(220), nullable=False),  # the name as written in the file
    Column("field", String(40)),
    Column("message", Text),
    # The row as the file had it (JSON), kept so rejected rows can be downloaded and fixed.
    Column("source_values", Text),
)

# Patients answer back (docs/replies.md): every inbound text, check-ins and their answers,
# escalations to staff and the messages we send outside the care plan (alerts, reminders).
inbound_messages = Table(
    "inbound_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("message_sid", String(64), unique=True),  # a replayed webhook is recognised
    Column("from_phone", String(32), nullable=False, index=True),
    Column("to_phone", String(32)),
    Column("body", Text, nullable=False),
    Column("received_at", UTCDateTime, nullable=False, index=True),
    Column("enrollment_id", ForeignKey("enrollments.id"), index=True),  # none: unknown number
    Column("message_id", ForeignKey("scheduled_messages.id")),  # the check-in it answered
    Column("action", String(16), nullable=False),  # opt_out | opt_in | help | answer | ...
    Column("detail", Text),
    Column("reply", Text),  # what went back in the TwiML response
    Column("needs_staff", Boolean, nullable=False),
    Column("reviewed_at", UTCDateTime),
    Column("reviewed_by", String(120)),
)

checkins = Table(
    "checkins",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("message_id", ForeignKey("scheduled_messages.id"), nullable=False, unique=True),
    Column("enrollment_id", ForeignKey("enrollments.id"), nullable=False, index=True),
    Column("phone", String(20), nullable=False),
    Column("kind", String(16), nullable=False),  # pain | warning
    Column("asked_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),  # open | answered | no_answer | closed
    Column("clarified_at", UTCDateTime),  # the one clarifying question
    Column("reminder_at", UTCDateTime),  # the one reminder (or the decision not to send it)
    Column("task_at", UTCDateTime),  # the staff task for no answer
    Column("closed_reason", Text),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_checkins_phone", "phone", "asked_at"),
)

checkin_answers = Table(
    "checkin_answers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("checkin_id", ForeignKey("checkins.id"), nullable=False, unique=True),
    Column("enrollment_id", ForeignKey("enrollments.id"), nullable=False, index=True),
    Column("inbound_id", ForeignKey("inbound_messages.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("answer", String(8), nullable=False),  # "0".."10", "yes" or "no"
    Column("pain", Integer),
    Column("red_flag", Boolean, nullable=False),
    Column("reason", Text),  # why it is a red flag
    Column("answered_at", UTCDateTime, nullable=False),
)

escalations = Table(
    "escalations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("enrollment_id", ForeignKey("enrollments.id"), index=True),
    Column("checkin_id", ForeignKey("checkins.id")),
    Column("inbound_id", ForeignKey("inbound_messages.id")),
    Column("kind", String(16), nullable=False),  # red_flag | no_answer
    Column("reason", Text, nullable=False),
    Column("status", String(16), nullable=False),  # open | acknowledged | resolved
    Column("notes", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("acknowledged_at", UTCDateTime),
    Column("acknowledged_by", String(120)),
    Column("resolved_at", UTCDateTime),
    Column("resolved_by", String(120)),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("code", String(8), unique=True),  # "ACK <code>" by text acknowledges a red flag
    Column("pages", Integer, nullable=False, server_default="0"),  # rungs of the ladder done
    Column("next_page_at", UTCDateTime),  # the next rung is due (none: acknowledged or top)
    UniqueConstraint("checkin_id", "kind"),
    Index("ix_escalations_status", "status", "created_at"),
    Index("ix_escalations_next_page", "status", "next_page_at"),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("escalation_id", ForeignKey("escalations.id"), index=True),
    Column("checkin_id", ForeignKey("checkins.id")),
    # oncall_alert (its rung in `step`) | checkin_reminder | silence_nudge
    Column("kind", String(24), nullable=False),
    # The patient's enrollment, for a notification to a patient (its decision facts).
    Column("enrollment_id", ForeignKey("enrollments.id"), index=True),
    Column("channel", String(8), nullable=False),  # sms | email | voice
    Column("step", String(16)),  # an alert's rung: page | repage | backup | call
    Column("recipient", String(254), nullable=False),
    Column("language", String(8), nullable=False),
    Column("subject", Text),
    Column("body", Text, nullable=False),
    # The outbound lifecycle's states: scheduled | queued | sending | sent | delivered | ...
    Column("status", String(16), nullable=False),
    Column("status_reason", Text),  # why it was skipped, deferred or is being asked about
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime),  # scheduled: it may go from here (now, or a retry)
    Column("deadline", UTCDateTime),  # a patient's reminder is no use after this
    Column("lease_until", UTCDateTime),  # queued / sending: whoever holds it, until then
    Column("provider_id", String(255), index=True),
    Column("error_code", String(16)),
    Column("error_class", String(16)),
    Column("error_message", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_attempt_at", UTCDateTime),
    Column("sent_at", UTCDateTime),
    Column("delivered_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_notifications_due", "status", "next_attempt_at"),
)

# Interfaces (docs/integration.md): HL7 v2 messages received, references an EHR may use for
# an enrollment, and the FHIR write-back outbox with the cursors that fill it.
hl7_messages = Table(
    "hl7_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sender", String(200), nullable=False),  # MSH-3^MSH-4: application^facility
    Column("control_id", String(200), nullable=False),  # MSH-10, echoed in MSA-2
    Column("message_type", String(20), nullable=False),  # ADT^A03, ... ("?" when unreadable)
    Column("received_at", UTCDateTime, nullable=False, index=True),
    Column("ack_code", String(2), nullable=False),  # AA | AE | AR
    Column("outcome", String(24), nullable=False),  # enrolled | consent_needed | cancelled | ...
    Column("detail", Text, nullable=False),  # what staff read; no phone or email
    Column("enrollment_id", Integer, index=True),  # no foreign key: the log outlives rows
    Column("patient_identifier", String(250), index=True),  # PID-3 (first repetition)
    Column("visit_number", String(250)),  # PV1-19
    Column("location", String(250)),  # PV1-3, kept for clinics
    Column("pending", Text),  # consent_needed: the enrollment request as JSON, until staff act
    Column("settled_at", UTCDateTime),  # consent_needed: when staff enrolled or dismissed it
    Column("settled_by", String(ACTOR_MAX)),
    Column("ack", Text, nullable=False),  # the acknowledgement sent, sent again on a repeat
    UniqueConstraint("sender", "control_id"),
)

enrollment_refs = Table(
    "enrollment_refs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ref", String(KEY_MAX), nullable=False, unique=True),  # "fhir:Procedure/<id>"
    Column("enrollment_id", ForeignKey("enrollments.id"), nullable=False, index=True),
)

fhir_outbox = Table(
    "fhir_outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("business_id", String(120), nullable=False, unique=True),  # e.g. "message-42"
    Column("resource_type", String(32), nullable=False),
    Column("enrollment_id", ForeignKey("enrollments.id"), nullable=False, index=True),
    Column("patient_id", Integer, nullable=False, index=True),
    Column("resource", Text, nullable=False),  # the validated R4 resource as JSON
    Column("status", String(16), nullable=False),  # pending | delivered
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_fhir_outbox_due", "status", "next_attempt_at"),
)

writeback_cursors = Table(
    "writeback_cursors",
    metadata,
    Column("name", String(40), primary_key=True),  # messages | answers | flags
    Column("position", String(64), nullable=False),  # an id or an ISO time, per cursor
    Column("updated_at", UTCDateTime, nullable=False),
)
