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


MINUTES_A_DAY = 24 * 60


def _minute(t: time) -> int:
    return t.hour * 60 + t.minute


def daily_gaps(rota: tuple[Contact, ...]) -> list[tuple[time, time]]:
    """The hours of the day (clinic's zone) when nobody in the rota is on duty: [(15:00, 19:00)].

    Backups count: a backup on duty is paged when no one else is. A rota repeats daily.
    """
    if not rota:
        return []
    covered = [any(c.on_duty(time(m // 60, m % 60)) for c in rota) for m in range(MINUTES_A_DAY)]
    gaps: list[tuple[time, time]] = []
    m = 0
    while m < MINUTES_A_DAY:
        if covered[m]:
            m += 1
            continue
        start = m
        while m < MINUTES_A_DAY and not covered[m]:
            m += 1
        end = time(0, 0) if m == MINUTES_A_DAY else time(m // 60, m % 60)
        gaps.append((time(start // 60, start % 60), end))
    if len(gaps) > 1 and gaps[0][0] == time(0, 0) and gaps[-1][1] == time(0, 0):
        gaps = [(gaps[-1][0], gaps[0][1]), *gaps[1:-1]]  # one gap across midnight
    return gaps


def describe_gaps(gaps: list[tuple[time, time]]) -> str:
    return ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in gaps)


def rota_refusal(raw: str, *, fallback: bool) -> str | None:
    """Why a rota setting must not start the service, or None: a red flag must always page someone.

    A rota that leaves hours uncovered, or does not parse, is refused unless a fallback
    contact (REMINDERS_ONCALL_PHONE or REMINDERS_ONCALL_EMAIL) is set.
    """
    if fallback or not raw.strip():
        return None
    try:
        gaps = daily_gaps(parse_rota(raw))
    except RotaError as exc:
        return f"{exc}; fix it or set REMINDERS_ONCALL_PHONE / REMINDERS_ONCALL_EMAIL as a fallback"
    if not gaps:
        return None
    return (
        f"REMINDERS_ONCALL_ROTA leaves nobody on call {describe_gaps(gaps)} (clinic time): a red"
        " flag then would page no one. Cover those hours, or set REMINDERS_ONCALL_PHONE /"
        " REMINDERS_ONCALL_EMAIL as the fallback paged when nobody in the rota is on duty"
        " (check with: reminders oncall check)"
    )


def next_on_duty(
    rota: tuple[Contact, ...], *, after: datetime, zone: ZoneInfo
) -> tuple[Contact, datetime] | None:
    """Who comes on duty first after `after` (a gap's end), and when; None with no rota."""
    local = after.astimezone(zone)
    for minutes in range(1, 2 * MINUTES_A_DAY + 1):
        moment = local + timedelta(minutes=minutes)
        moment = moment.replace(second=0, microsecond=0)
        primary, backup = on_duty(rota, now=moment, zone=zone)
        if primary or backup:
            contact = primary or backup
            assert contact is not None
            return contact, moment.astimezone(after.tzinfo)
    return None


def coverage(
    rota: tuple[Contact, ...], *, start: datetime, zone: ZoneInfo, days: int, fallback: str
) -> list[str]:
    """Who is paged, hour by hour changes, over the next `days` days in the clinic's zone.

    One line per change: "Tue Dec 08 15:00 PST  NOBODY (fallback: on-call +1805...)".
    """
    local = start.astimezone(zone).replace(second=0, microsecond=0)
    lines: list[str] = []
    previous: str | None = None
    for minutes in range(days * MINUTES_A_DAY):
        moment = local + timedelta(minutes=minutes)
        primary, backup = on_duty(rota, now=moment, zone=zone)
        names = [c.name for c in (primary, backup) if c is not None]
        if names:
            who = " + backup ".join(names) if primary and backup else names[0]
        else:
            who = f"NOBODY in the rota: {fallback}" if fallback else "NOBODY: red flags page no one"
        if who != previous:
            lines.append(f"{moment:%a %b %d %H:%M %Z}  {who}")
            previous = who
    return lines


def spoken_alert(clinic: str) -> str:
    """TwiML for the voice call: the clinic's name and what to do, said twice; never PHI."""
    words = escape(f"This is {clinic}: a patient reported a warning sign; check the inbox.")
    say = f'<Say voice="alice">{words}</Say>'
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Response>{say}<Pause length="1"/>{say}</Response>'
    )
