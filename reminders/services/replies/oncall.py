"""The on-call contacts a red flag pages, read from settings: a rota or one phone/email."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from reminders.domain.enrollment.contact import normalize_phone
from reminders.domain.errors import InvalidPhoneNumber
from reminders.domain.inbound.oncall import (
    Contact,
    RotaError,
    next_on_duty,
    on_duty,
    parse_rota,
)
from reminders.domain.planning.timing import zone_named
from reminders.settings import Settings

log = logging.getLogger("reminders.escalation")


@dataclass(frozen=True)
class OnCall:
    """Who is paged about a red flag, and how long they have to acknowledge it.

    `phone`/`email` are the simple settings; a rota (contacts with hours in the clinic's
    zone) takes precedence while someone in it is on duty.
    """

    phone: str = ""
    email: str = ""
    backup_phone: str = ""
    backup_email: str = ""
    rota: tuple[Contact, ...] = ()
    zone: str = "UTC"
    ack: timedelta = timedelta(minutes=15)

    @classmethod
    def from_settings(cls, settings: Settings) -> OnCall:
        def phone(raw: str, name: str) -> str:
            raw = raw.strip()
            try:
                return normalize_phone(raw, default_region=settings.default_region) if raw else ""
            except InvalidPhoneNumber:
                log.error("%s is not a valid number; alerts to it will fail", name)
                return raw

        try:
            rota = parse_rota(settings.oncall_rota)
        except RotaError as exc:
            log.error("%s; paging the simple on-call settings instead", exc)
            rota = ()
        rota = tuple(replace(c, phone=phone(c.phone, f"the rota phone of {c.name}")) for c in rota)
        return cls(
            phone=phone(settings.oncall_phone, "REMINDERS_ONCALL_PHONE"),
            email=settings.oncall_email.strip(),
            backup_phone=phone(settings.oncall_backup_phone, "REMINDERS_ONCALL_BACKUP_PHONE"),
            backup_email=settings.oncall_backup_email.strip(),
            rota=rota,
            zone=settings.clinic_timezone,
            ack=timedelta(minutes=settings.ack_minutes),
        )

    @property
    def ack_minutes(self) -> int:
        return int(self.ack.total_seconds() // 60)

    @property
    def configured(self) -> bool:
        return bool(self.phone or self.email or self.rota)

    def contacts(self, now: datetime) -> tuple[Contact | None, Contact | None]:
        """(on call, backup) at `now`: the rota's, else the simple settings'."""
        primary, backup = on_duty(self.rota, now=now, zone=zone_named(self.zone))
        if primary is None and (self.phone or self.email):
            primary = Contact("on-call", phone=self.phone, email=self.email)
        if backup is None and (self.backup_phone or self.backup_email):
            backup = Contact(
                "backup", phone=self.backup_phone, email=self.backup_email, backup=True
            )
        return primary, backup

    @property
    def fallback(self) -> str:
        """The contact paged when nobody in the rota is on duty, as staff read it; "" if none."""
        return " / ".join(x for x in (self.phone, self.email) if x)

    def in_gap(self, now: datetime) -> bool:
        """A rota is set and nobody in it is on duty at `now`."""
        primary, backup = on_duty(self.rota, now=now, zone=zone_named(self.zone))
        return bool(self.rota) and primary is None and backup is None

    def next_shift(self, now: datetime) -> tuple[Contact, datetime] | None:
        """Who in the rota comes on duty next after `now`, and when."""
        return next_on_duty(self.rota, after=now, zone=zone_named(self.zone))

    def staff_named(self, phone: str) -> str | None:
        """The name of the staff member texting from this phone, None if not a paged phone."""
        if not phone:
            return None
        for c in self.rota:
            if c.phone == phone:
                return c.name
        if phone == self.phone:
            return "on-call"
        if phone == self.backup_phone:
            return "backup"
        return None
