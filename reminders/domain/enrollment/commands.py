"""Commands: what a staff member, script or EHR asks the service to do, as plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from reminders.domain.model import Channel, ConsentMethod


@dataclass(frozen=True)
class GiveConsent:
    channel: Channel
    method: ConsentMethod = ConsentMethod.VERBAL
    more_frequent_sms: bool = False  # only counts with written consent


@dataclass(frozen=True)
class AddCaregiver:
    """A caregiver as typed at a door; domain/enrollment/caregiver.py checks it."""

    name: str
    phone: str | None = None
    email: str | None = None
    relationship: str = ""
    language: str | None = None  # None: the patient's language
    sms_consent: bool = False
    email_consent: bool = False


@dataclass(frozen=True)
class EnrollPatient:
    first_name: str
    last_name: str
    procedure: str
    performed_at: datetime  # naive means the patient's local time
    timezone: str
    phone: str | None = None
    email: str | None = None
    language: str = "en"
    levels: int = 1
    overnight: bool = False
    external_id: str | None = None
    consents: tuple[GiveConsent, ...] = field(default_factory=tuple)
    enrolled_by: str = "system"
    caregiver: AddCaregiver | None = None  # optional second recipient
