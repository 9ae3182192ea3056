"""HL7 v2 ADT messages read with the `hl7` package: the event, patient, procedure and consent.

What each field means here is written down in docs/integration.md; every problem names
the segment and field it is in (an ERR segment's location), and nothing is guessed: a
field that cannot be read is an error, not a default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

import hl7
from hl7.datatypes import parse_datetime
from hl7.exceptions import ParseException

from reminders.domain.enrollment.commands import GiveConsent
from reminders.domain.model import Channel, ConsentMethod

VERSIONS = ("2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8")
HANDLED = ("A03", "A08", "A11", "A13")  # other ADT events are acknowledged and ignored
CPT = "http://www.ama-assn.org/go/cpt"
# PR1-3's coding system (CE/CWE component 3) as interface engines write CPT.
CODING_SYSTEMS = {"CPT": CPT, "C4": CPT, "CPT4": CPT, "CPT-4": CPT}
# PID-15: ISO 639-1, ISO 639-2 or the English name, as feeds send it.
LANGUAGES = {"en": "en", "eng": "en", "english": "en", "es": "es", "spa": "es", "spanish": "es"}
# Consent carried in the message (docs/integration.md, "Consent"): one OBX a channel, OBX-3
# this local code, OBX-5 Y. The hospital's intake form is written consent.
CONSENT_CODES = {"RR-CONSENT-SMS": Channel.SMS, "RR-CONSENT-EMAIL": Channel.EMAIL}

# HL7 table 0357, the error codes an ERR-3 carries.
REQUIRED_MISSING = "101"
DATA_TYPE_ERROR = "102"
TABLE_VALUE_NOT_FOUND = "103"
UNSUPPORTED_MESSAGE_TYPE = "200"
UNSUPPORTED_VERSION = "203"
INTERNAL_ERROR = "207"


@dataclass(frozen=True)
class Problem:
    """One thing wrong, where it is (segment, field) and its HL7 error code."""

    segment: str
    field: int
    code: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.segment}-{self.field}" if self.field else self.segment


class Unprocessable(Exception):
    """The message cannot be processed at all (AR): not HL7, not ADT, a wrong version."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.text)
        self.problem = problem


@dataclass(frozen=True)
class Header:
    sender: str  # MSH-3^MSH-4
    control_id: str  # MSH-10
    message_type: str  # "ADT^A03"
    event: str  # "A03"
    version: str


@dataclass
class Adt:
    """What an ADT message says about the patient and the procedure, as read."""

    header: Header
    patient_identifier: str = ""  # PID-3, first repetition: id^^^authority
    first_name: str = ""
    last_name: str = ""
    phone: str | None = None
    email: str | None = None
    language: str | None = None
    visit_number: str | None = None  # PV1-19
    location: str | None = None  # PV1-3
    procedure_code: tuple[str, str] | None = None  # (system, code) of PR1-3
    performed_at: datetime | None = None  # PR1-5
    consents: tuple[GiveConsent, ...] = ()
    problems: list[Problem] = field(default_factory=list)


def parse(text: str) -> hl7.Message:
    """The message, or Unprocessable when it is not an HL7 v2 message."""
    try:
        message = hl7.parse(text)
    except (ParseException, ValueError, IndexError) as exc:
        raise Unprocessable(
            Problem("MSH", 0, INTERNAL_ERROR, f"not an HL7 v2 message: {exc}")
        ) from None
    if not isinstance(message, hl7.Message):
        raise Unprocessable(Problem("MSH", 0, INTERNAL_ERROR, "send one message per MLLP block"))
    return message


def header(message: hl7.Message) -> Header:
    """MSH read; Unprocessable for a message without a control id, not ADT, or another version."""
    sender = "^".join(p for p in (_get(message, "MSH", 3), _get(message, "MSH", 4)) if p)
    control_id = _get(message, "MSH", 10)
    kind, event = _get(message, "MSH", 9, 1, 1), _get(message, "MSH", 9, 1, 2)
    version = _get(message, "MSH", 12, 1, 1)
    found = Header(sender or "?", control_id, f"{kind}^{event}" if event else kind, event, version)
    if not control_id:
        raise Unprocessable(Problem("MSH", 10, REQUIRED_MISSING, "MSH-10 (control id) is empty"))
    if version not in VERSIONS:
        raise Unprocessable(
            Problem(
                "MSH",
                12,
                UNSUPPORTED_VERSION,
                f"version {version or '(none)'} is not accepted; send {', '.join(VERSIONS)}",
            )
        )
    if kind != "ADT":
        raise Unprocessable(
            Problem(
                "MSH",
                9,
                UNSUPPORTED_MESSAGE_TYPE,
                f"{found.message_type or '(none)'} is not taken here; send ADT messages",
            )
        )
    return found


def read_adt(message: hl7.Message, head: Header) -> Adt:
    """The patient (PID), the visit (PV1), the procedure (PR1) and consent (OBX)."""
    adt = Adt(header=head)
    if not _has(message, "PID"):
        adt.problems.append(Problem("PID", 0, REQUIRED_MISSING, "the PID segment is missing"))
        return adt
    ident, authority = _get(message, "PID", 3, 1, 1), _get(message, "PID", 3, 1, 4)
    if not ident:
        adt.problems.append(Problem("PID", 3, REQUIRED_MISSING, "PID-3 (patient id) is empty"))
    adt.patient_identifier = f"{ident}^^^{authority}" if authority else ident
    adt.last_name = _get(message, "PID", 5, 1, 1)
    adt.first_name = _get(message, "PID", 5, 1, 2)
    adt.phone, adt.email = _telecom(message)
    language = _get(message, "PID", 15, 1, 1)
    if language:
        adt.language = LANGUAGES.get(language.strip().lower())
        if adt.language is None:
            adt.problems.append(
                Problem(
                    "PID",
                    15,
                    TABLE_VALUE_NOT_FOUND,
                    f"language {language!r} is not offered; messages go out in"
                    f" {', '.join(sorted(set(LANGUAGES.values())))}",
                )
            )
    if _has(message, "PV1"):
        adt.visit_number = _get(message, "PV1", 19, 1, 1) or None
        point = [_get(message, "PV1", 3, 1, n) for n in (1, 2, 3, 4)]
        adt.location = "^".join(point).rstrip("^") or None
    if head.event == "A03":
        _procedure(message, adt)
    adt.consents = _consents(message)
    return adt


def _procedure(message: hl7.Message, adt: Adt) -> None:
    if not _has(message, "PR1"):
        adt.problems.append(
            Problem("PR1", 0, REQUIRED_MISSING, "an A03 needs a PR1 segment with the procedure")
        )
        return
    code, system = _get(message, "PR1", 3, 1, 1), _get(message, "PR1", 3, 1, 3)
    if not code:
        adt.problems.append(Problem("PR1", 3, REQUIRED_MISSING, "PR1-3 (procedure code) is empty"))
    else:
        adt.procedure_code = (CODING_SYSTEMS.get(system.strip().upper(), system), code.strip())
    when = _get(message, "PR1", 5, 1, 1)
    if not when:
        adt.problems.append(Problem("PR1", 5, REQUIRED_MISSING, "PR1-5 (procedure time) is empty"))
        return
    digits = when.split("+")[0].split("-")[0].split(".")[0]
    try:
        parsed = parse_datetime(when)
    except (ValueError, TypeError):
        parsed = None
    if parsed is None or len(digits) < 12:
        adt.problems.append(
            Problem(
                "PR1",
                5,
                DATA_TYPE_ERROR,
                f"PR1-5 {when!r} is not a date and time to the minute (YYYYMMDDHHMM[+ZZZZ])",
            )
        )
        return
    offset = parsed.utcoffset()
    # The library's own tzinfo class cannot be copied; a plain fixed offset can.
    adt.performed_at = parsed if offset is None else parsed.replace(tzinfo=timezone(offset))


def _telecom(message: hl7.Message) -> tuple[str | None, str | None]:
    """PID-13's repetitions: the first phone (a cell phone first) and the first email (NET)."""
    phone = email = None
    for rep in range(1, 21):
        number, use, kind, address = (_get(message, "PID", 13, rep, n) for n in (1, 2, 3, 4))
        if not (number or use or kind or address):
            break
        if (use == "NET" or kind == "Internet") and address:
            email = email or address
        elif number and kind in ("", "PH", "CP") and (phone is None or kind == "CP"):
            phone = number  # the first phone, or a cell phone (it can take texts)
    return phone, email


def _consents(message: hl7.Message) -> tuple[GiveConsent, ...]:
    found: dict[Channel, GiveConsent] = {}
    try:
        segments = message.segments("OBX")
    except KeyError:
        return ()
    for index, _ in enumerate(segments, start=1):
        code = _get(message, "OBX", 3, 1, 1, segment_num=index)
        value = _get(message, "OBX", 5, 1, 1, segment_num=index).strip().upper()
        status = _get(message, "OBX", 11, 1, 1, segment_num=index).strip().upper()
        channel = CONSENT_CODES.get(code.strip().upper())
        if channel is not None and value in ("Y", "YES") and status not in ("D", "W", "X"):
            found[channel] = GiveConsent(channel, ConsentMethod.WRITTEN)
    return tuple(found.values())


def _has(message: hl7.Message, segment: str) -> bool:
    try:
        message.segment(segment)
    except KeyError:
        return False
    return True


def _get(
    message: hl7.Message,
    segment: str,
    field_num: int,
    repeat: int = 1,
    component: int = 1,
    *,
    segment_num: int = 1,
) -> str:
    """One component, unescaped (\\F\\, \\S\\, \\T\\, ...), or "" when absent."""
    try:
        return str(
            message.extract_field(segment, segment_num, field_num, repeat, component) or ""
        ).strip()
    except (KeyError, IndexError):
        return ""
