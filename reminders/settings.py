"""One typed Settings object, read from the environment (and .env) with safe defaults."""

from __future__ import annotations

from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from reminders.domain.inbound.oncall import rota_refusal

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "development-only-secret-change-me"


class Settings(BaseSettings):
    """Everything the service reads from its environment; names as README.md lists them."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    environment: Literal["development", "test", "production"] = Field(
        "development", alias="REMINDERS_ENVIRONMENT"
    )
    var_dir: Path = Field(
        Path("var"), alias="REMINDERS_VAR_DIR"
    )  # ./var: the embedded default's files
    database_url: str = Field("", alias="REMINDERS_DATABASE_URL")
    broker_url: str = Field("", alias="REMINDERS_BROKER_URL")
    public_url: str = Field("http://127.0.0.1:8000", alias="REMINDERS_PUBLIC_URL")
    care_plans_dir: Path = Field(ROOT / "config" / "care_plans", alias="REMINDERS_CARE_PLANS_DIR")
    templates_dir: Path = Field(ROOT / "templates", alias="REMINDERS_TEMPLATES_DIR")

    clinic_name: str = Field("Dr. Taqi Spine Care", alias="REMINDERS_CLINIC_NAME")
    clinic_phone: str = Field("805-242-4884", alias="REMINDERS_CLINIC_PHONE")
    clinic_timezone: str = Field("America/Los_Angeles", alias="REMINDERS_CLINIC_TIMEZONE")
    # The language of the staff pages' step titles (each care-plan step has one per language).
    staff_language: Literal["en", "es"] = Field("en", alias="REMINDERS_STAFF_LANGUAGE")
    # Who answers nights and weekends (an answering service or the hospital operator):
    # every "call us" names it (docs/care-plans.md). Empty: the clinic's own line.
    clinic_after_hours_phone: str = Field("", alias="REMINDERS_CLINIC_AFTER_HOURS_PHONE")
    # Whether staff on the phone speak Spanish; if not, Spanish texts offer a free interpreter.
    clinic_spanish_spoken: bool = Field(True, alias="REMINDERS_CLINIC_SPANISH_SPOKEN")
    default_region: str = Field("US", alias="REMINDERS_DEFAULT_REGION")
    discreet_sms: bool = Field(False, alias="REMINDERS_DISCREET_SMS")

    quiet_hours_start: time = Field(time(8, 0), alias="REMINDERS_QUIET_HOURS_START")
    quiet_hours_end: time = Field(time(21, 0), alias="REMINDERS_QUIET_HOURS_END")
    sms_per_day: int = Field(1, ge=1, alias="REMINDERS_SMS_PER_DAY")
    sms_per_week: int = Field(3, ge=1, alias="REMINDERS_SMS_PER_WEEK")
    clock_skew_minutes: int = Field(10, ge=0, alias="REMINDERS_CLOCK_SKEW_MINUTES")

    # Delivery: how often beat looks for due messages, and the sender's rate (a US long
    # code takes 1 message a second, toll-free 3); every worker shares the limit.
    dispatch_interval: float = Field(1.0, gt=0, alias="REMINDERS_DISPATCH_INTERVAL")
    reconcile_interval: float = Field(10.0, gt=0, alias="REMINDERS_RECONCILE_INTERVAL")
    dispatch_batch_size: int = Field(500, ge=1, alias="REMINDERS_DISPATCH_BATCH_SIZE")
    send_batch_size: int = Field(100, ge=1, alias="REMINDERS_SEND_BATCH_SIZE")  # ids per task
    max_in_flight: int = Field(5000, ge=1, alias="REMINDERS_MAX_IN_FLIGHT")
    sms_rate_per_second: float = Field(1.0, gt=0, alias="REMINDERS_SMS_RATE_PER_SECOND")
    redis_url: str = Field("", alias="REMINDERS_REDIS_URL")  # rate limit; default: the broker
    # A queued message not picked up within this is claimed again (the broker lost it);
    # one left "sending" this long is reconciled with the provider (the worker died).
    # Short, because a live worker renews both leases every third of them (heartbeats).
    queue_lease_seconds: float = Field(30, gt=0, alias="REMINDERS_QUEUE_LEASE_SECONDS")
    send_lease_seconds: float = Field(30, gt=0, alias="REMINDERS_SEND_LEASE_SECONDS")
    # Seconds to wait for Twilio's answer; no answer means "ask Twilio before a retry".
    twilio_timeout: float = Field(15.0, gt=0, alias="TWILIO_TIMEOUT_SECONDS")
    # Replies (docs/replies.md): who is alerted at once about a red flag (SMS and/or email),
    # how often check-ins and failed alerts are followed up, and when a text still "sent"
    # is looked up at Twilio in case its status callback was lost.
    oncall_phone: str = Field("", alias="REMINDERS_ONCALL_PHONE")
    oncall_email: str = Field("", alias="REMINDERS_ONCALL_EMAIL")
    replies_interval: float = Field(60.0, gt=0, alias="REMINDERS_REPLIES_INTERVAL")
    # How often the worker drains the inbound spool (docs/reliability.md); the web process
    # also drains it before handling each new reply.
    spool_interval: float = Field(10.0, gt=0, alias="REMINDERS_SPOOL_INTERVAL")
    status_poll_after_minutes: int = Field(30, ge=1, alias="REMINDERS_STATUS_POLL_AFTER_MINUTES")
    # Closed loop (docs/replies.md): a red flag must be acknowledged within ack_minutes, or
    # the on-call contact is paged again, then the backup, then both are called. A rota is
    # a JSON list of {"name", "phone", "email", "start": "HH:MM", "end": "HH:MM", "backup"}
    # in the clinic's zone; without one the phone/email settings above are the on-call.
    ack_minutes: int = Field(15, ge=1, le=240, alias="REMINDERS_ACK_MINUTES")
    oncall_backup_phone: str = Field("", alias="REMINDERS_ONCALL_BACKUP_PHONE")
    oncall_backup_email: str = Field("", alias="REMINDERS_ONCALL_BACKUP_EMAIL")
    oncall_rota: str = Field("", alias="REMINDERS_ONCALL_ROTA")
    twilio_voice_from_number: str = Field("", alias="TWILIO_VOICE_FROM_NUMBER")  # default: FROM

    twilio_account_sid: str = Field("", alias="TWILIO_ACCOUNT_SID")
    twilio_auth_token: str = Field("", alias="TWILIO_AUTH_TOKEN")
    twilio_from_number: str = Field("", alias="TWILIO_FROM_NUMBER")
    twilio_messaging_service_sid: str = Field("", alias="TWILIO_MESSAGING_SERVICE_SID")
    twilio_api_base_url: str = Field("", alias="TWILIO_API_BASE_URL")
    smtp_host: str = Field("", alias="SMTP_HOST")
    smtp_port: int = Field(587, alias="SMTP_PORT")
    smtp_username: str = Field("", alias="SMTP_USERNAME")
    smtp_password: str = Field("", alias="SMTP_PASSWORD")
    smtp_starttls: bool = Field(True, alias="SMTP_STARTTLS")
    email_from: str = Field("", alias="EMAIL_FROM")

    # Signs staff session cookies; a known value would let anyone forge a login.
    secret_key: str = Field(DEV_SECRET_KEY, alias="REMINDERS_SECRET_KEY")
    session_hours: int = Field(12, ge=1, alias="REMINDERS_SESSION_HOURS")
    # Encrypts staff TOTP secrets at rest (adapters/field_cipher.py): Fernet keys, comma-
    # separated, newest first. Unset: derived from REMINDERS_SECRET_KEY (changing that key
    # then makes admins set up two-step sign-in again; docs/security.md).
    field_key: str = Field("", alias="REMINDERS_FIELD_KEY")
    # Staff sign-in (docs/security.md): sessions end after this long unused; this many
    # failed sign-ins within the window lock the account (or the address) for a while;
    # admins always need a second factor (TOTP), staff when REMINDERS_MFA_FOR_STAFF=true.
    session_idle_minutes: int = Field(30, ge=1, alias="REMINDERS_SESSION_IDLE_MINUTES")
    login_max_failures: int = Field(5, ge=1, alias="REMINDERS_LOGIN_MAX_FAILURES")
    login_max_failures_per_address: int = Field(
        20, ge=1, alias="REMINDERS_LOGIN_MAX_FAILURES_PER_ADDRESS"
    )
    # Wrong passwords past login_max_failures slow the account down (1, 2, 4 ... seconds,
    # at most this) instead of locking it; wrong second-factor codes lock it.
    login_delay_cap_seconds: int = Field(
        60, ge=1, le=3600, alias="REMINDERS_LOGIN_DELAY_CAP_SECONDS"
    )
    mfa_max_failures: int = Field(5, ge=1, alias="REMINDERS_MFA_MAX_FAILURES")
    login_window_minutes: int = Field(15, ge=1, alias="REMINDERS_LOGIN_WINDOW_MINUTES")
    login_lockout_minutes: int = Field(15, ge=1, alias="REMINDERS_LOGIN_LOCKOUT_MINUTES")
    mfa_for_staff: bool = Field(False, alias="REMINDERS_MFA_FOR_STAFF")
    # The audit log's chain is an HMAC with this key, which the database never holds;
    # unset: derived from REMINDERS_SECRET_KEY (keep either stable: old rows need it).
    # Its head is signed and appended to the checkpoint file this often (docs/security.md).
    audit_key: str = Field("", alias="REMINDERS_AUDIT_KEY")
    audit_checkpoint_file: Path | None = Field(None, alias="REMINDERS_AUDIT_CHECKPOINT_FILE")
    audit_checkpoint_seconds: float = Field(60.0, ge=0, alias="REMINDERS_AUDIT_CHECKPOINT_SECONDS")

    # --- Transport and request limits (docs/security.md) ---
    # SMTP over implicit TLS (port 465) instead of STARTTLS; either way the server's
    # certificate is verified against the system's CAs, or SMTP_CA_FILE for a private CA.
    smtp_ssl: bool = Field(False, alias="SMTP_SSL")
    smtp_ca_file: str = Field("", alias="SMTP_CA_FILE")
    # Request bodies are counted as they arrive and refused (413) past these sizes, before
    # any parsing: forms, JSON, FHIR and webhooks; the CSV upload has its own limit.
    max_body_bytes: int = Field(1024 * 1024, ge=1024, alias="REMINDERS_MAX_BODY_BYTES")
    max_upload_bytes: int = Field(10 * 1024 * 1024, ge=1024, alias="REMINDERS_MAX_UPLOAD_BYTES")

    # HL7 v2 over MLLP (docs/integration.md): `reminders run` listens when a port is set.
    hl7_host: str = Field("127.0.0.1", alias="REMINDERS_HL7_HOST")
    hl7_port: int = Field(0, ge=0, le=65535, alias="REMINDERS_HL7_PORT")  # 0: no listener
    hl7_max_message_bytes: int = Field(64 * 1024, ge=1024, alias="REMINDERS_HL7_MAX_MESSAGE_BYTES")
    # FHIR write-back (docs/integration.md): where Communications, QuestionnaireResponses,
    # Flags and Tasks go. Empty base URL: the outbox fills but nothing is pushed.
    fhir_writeback_url: str = Field("", alias="REMINDERS_FHIR_WRITEBACK_URL")
    fhir_writeback_token: str = Field("", alias="REMINDERS_FHIR_WRITEBACK_TOKEN")  # bearer
    # SMART backend services instead of a fixed token: a client_credentials grant with a
    # JWT signed by this private key (RS384), at this token URL.
    fhir_writeback_token_url: str = Field("", alias="REMINDERS_FHIR_WRITEBACK_TOKEN_URL")
    fhir_writeback_client_id: str = Field("", alias="REMINDERS_FHIR_WRITEBACK_CLIENT_ID")
    fhir_writeback_private_key: Path | None = Field(
        None, alias="REMINDERS_FHIR_WRITEBACK_PRIVATE_KEY"
    )
    fhir_writeback_key_id: str = Field("", alias="REMINDERS_FHIR_WRITEBACK_KEY_ID")
    fhir_writeback_timeout: float = Field(10.0, gt=0, alias="REMINDERS_FHIR_WRITEBACK_TIMEOUT")
    writeback_interval: float = Field(30.0, gt=0, alias="REMINDERS_WRITEBACK_INTERVAL")

    @field_validator("public_url")
    @classmethod
    def _strip_slash(cls, v: str) -> str:
        return v.rstrip("/")

    @model_validator(mode="after")
    def _defaults_and_production_guard(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'reminders.db'}"
        if not self.redis_url and self.broker_url.startswith(("redis://", "rediss://")):
            self.redis_url = self.broker_url
        # Paging cannot fall through a gap (docs/replies.md): refused at start-up.
        fallback = bool(self.oncall_phone.strip() or self.oncall_email.strip())
        if (refused := rota_refusal(self.oncall_rota, fallback=fallback)) is not None:
            raise ValueError(refused)
        if self.environment == "production":
            missing = [
                name
                for name, value in (
                    ("REMINDERS_DATABASE_URL", self.database_url.startswith("postgresql")),
                    ("REMINDERS_BROKER_URL", bool(self.broker_url)),
                    ("TWILIO_ACCOUNT_SID", bool(self.twilio_account_sid)),
                    ("TWILIO_AUTH_TOKEN", bool(self.twilio_auth_token)),
                    # Patients are told to call this clinic about warning signs: never the
                    # demo clinic's name and number by accident.
                    ("REMINDERS_CLINIC_NAME", "clinic_name" in self.model_fields_set),
                    ("REMINDERS_CLINIC_PHONE", "clinic_phone" in self.model_fields_set),
                    # Without SMTP, emails would land in ./var/outbox and look sent.
                    ("SMTP_HOST", bool(self.smtp_host)),
                    ("EMAIL_FROM", bool(self.email_from)),
                )
                if not value
            ]
            if missing:
                raise ValueError(
                    "production needs PostgreSQL, a broker, Twilio and SMTP settings and the"
                    " clinic's own name and phone; set " + ", ".join(missing)
                )
            if self.secret_key == DEV_SECRET_KEY or not strong_secret(self.secret_key):
                raise ValueError(
                    "production needs its own random REMINDERS_SECRET_KEY of 32 or more"
                    " characters (not one character repeated, not a word or pattern); make one"
                    ' with: python -c "import secrets; print(secrets.token_urlsafe(48))"'
                )
            if not self.field_key:
                raise ValueError(
                    "production needs REMINDERS_FIELD_KEY (it encrypts staff TOTP secrets; without"
                    " it they hang on REMINDERS_SECRET_KEY); make one with: python -c"
                    ' "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
                )
            if self.twilio_api_base_url and not self.twilio_api_base_url.startswith("https://"):
                raise ValueError(
                    "production sends texts over TLS only: TWILIO_API_BASE_URL must be https://"
                    " (or unset for Twilio itself)"
                )
            bounds = [
                (name, value, most)
                for name, value, most in (
                    ("REMINDERS_SESSION_IDLE_MINUTES", self.session_idle_minutes, 60),
                    ("REMINDERS_SESSION_HOURS", self.session_hours, 24),
                    ("REMINDERS_LOGIN_MAX_FAILURES", self.login_max_failures, 10),
                    ("REMINDERS_MFA_MAX_FAILURES", self.mfa_max_failures, 10),
                    (
                        "REMINDERS_LOGIN_MAX_FAILURES_PER_ADDRESS",
                        self.login_max_failures_per_address,
                        100,
                    ),
                )
                if value > most
            ]
            if bounds:
                raise ValueError(
                    "production bounds automatic logoff and sign-in guessing: "
                    + ", ".join(f"{n} is {v}, at most {m}" for n, v, m in bounds)
                )
            if not (self.smtp_starttls or self.smtp_ssl):
                raise ValueError(
                    "production sends email over TLS only: set SMTP_STARTTLS=true (port 587)"
                    " or SMTP_SSL=true (port 465)"
                )
            if not self.public_url.startswith("https://"):
                raise ValueError(
                    "production needs an https:// REMINDERS_PUBLIC_URL (staff sign in there and"
                    " Twilio posts replies there); put a TLS proxy in front of the app"
                )
        return self

    @property
    def uses_dev_key(self) -> bool:
        """The session key is the public development constant: anyone could forge a login."""
        return self.secret_key == DEV_SECRET_KEY

    @property
    def embedded_broker(self) -> bool:
        """No broker configured: Celery uses files under ./var/broker (no server needed)."""
        return not self.broker_url

    @property
    def status_callback_url(self) -> str:
        return f"{self.public_url}/webhooks/twilio/status"


def strong_secret(key: str) -> bool:
    """32 or more characters with enough different ones to be random, not a pattern."""
    return (
        len(key) >= 32
        and len(set(key)) >= 16
        and len(set(key[i : i + 4] for i in range(0, len(key), 4))) > len(key) // 8
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
