"""Who is on call now, the ladder an unacknowledged red flag climbs, and the spoken alert; pure."""

from __future__ import annotations

import enum
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read off a phone screen
CODE_LENGTH = 4


class Step(enum.StrEnum):
    """One rung of the ladder: what the beat does when nobody has acknowledged yet."""

    PAGE = "page"  # the first alert, at once, to whoever is on call
    REPAGE = "repage"  # the same contact again
    BACKUP = "backup"  # the backup contact
    CALL = "call"  # a voice call to the on-call and backup phones


LADDER = (Step.PAGE, Step.REPAGE, Step.BACKUP, Step.CALL)


def next_rung(done: int, *, created_at: datetime, ack: timedelta) -> tuple[Step, datetime] | None:
    """The rung after `done` rungs (the page is rung 1) and when it is due; None at the top."""
    if done >= len(LADDER):
        return None
    return LADDER[done], created_at + ack * done


def ack_code_in(body: str) -> str | None:
    """The alert code in an on-call text: "ACK K7QM", "ack k7qm on it", "K7QM ok"; else None.

    A 4-character word of the code alphabet counts after "ack", or when it holds a digit,
    or when written in capitals: "ok", "done" or "on it" alone name no alert.
    """
    words = re.findall(r"[A-Za-z0-9]+", body or "")
    for i, word in enumerate(words):
        code = word.upper()
        if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
            continue
        after_ack = i > 0 and words[i - 1].upper() == "ACK"
        if after_ack or any(ch.isdigit() for ch in code) or word.isupper():
            return code
    joined = re.fullmatch(r"\s*ack([A-Za-z0-9]{4})\W*", body or "", re.IGNORECASE)
    return joined[1].upper() if joined else None


def ack_code() -> str:
    """A short code the on-call nurse texts back ("ACK K7QM") to acknowledge one alert."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


@dataclass(frozen=True)
class Contact:
    """A person who can be paged: a phone and/or email, on duty between two local times."""

    name: str
    phone: str = ""
    email: str = ""
    start: time = time(0, 0)
    end: time = time(0, 0)  # equal to start: all day; earlier than start: overnight
    backup: bool = False

    def on_duty(self, local: time) -> bool:
        if self.start == self.end:
            return True
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    @property
    def reachable(self) -> bool:
        return bool(self.phone or self.email)


class RotaError(ValueError):
    """The rota setting cannot be read; the message says where."""


def parse_rota(raw: str) -> tuple[Contact, ...]:
    """Read REMINDERS_ONCALL_ROTA: a JSON list of {name, phone, email, start, end, backup}."""
    if not raw.strip():
        return ()
    try:
        items = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise RotaError(f"REMINDERS_ONCALL_ROTA is not JSON: {exc.msg}") from None
    if not isinstance(items, list):
        raise RotaError("REMINDERS_ONCALL_ROTA must be a JSON list of contacts")
    out = []
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise RotaError(f"REMINDERS_ONCALL_ROTA entry {n} must be an object")
        try:
            contact = Contact(
                name=str(item.get("name") or f"contact {n}"),
                phone=str(item.get("phone") or ""),
                email=str(item.get("email") or ""),
                start=time.fromisoformat(str(item.get("start") or "00:00")),
                end=time.fromisoformat(str(item.get("end") or "00:00")),
                backup=bool(item.get("backup", False)),
            )
        except ValueError as exc:
            raise RotaError(f"REMINDERS_ONCALL_ROTA entry {n}: {exc}") from None
        if not contact.reachable:
            raise RotaError(f"REMINDERS_ONCALL_ROTA entry {n} has neither phone nor email")
        out.append(contact)
    return tuple(out)


def on_duty(
    rota: tuple[Contact, ...], *, now: datetime, zone: ZoneInfo
) -> tuple[Contact | None, Contact | None]:
    """(on call, backup) at `now` in the clinic's zone: the first on duty of each kind."""
    local = now.astimezone(zone).time()
    primary = next((c for c in rota if not c.backup and c.on_duty(local)), None)
    backup = next((c for c in rota if c.backup and c.on_duty(local)), None)
    return primary, backup


def spoken_alert(clinic: str) -> str:
    """TwiML for the voice call: the clinic's name and what to do, said twice; never PHI."""
    words = escape(f"This is {clinic}: a patient reported a warning sign; check the inbox.")
    say = f'<Say voice="alice">{words}</Say>'
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Response>{say}<Pause length="1"/>{say}</Response>'
    )
