"""CSV files of procedures: read the header and rows, and turn a row into an EnrollPatient."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from reminders.domain.enrollment.commands import AddCaregiver, EnrollPatient, GiveConsent
from reminders.domain.errors import ReminderError
from reminders.domain.model import Channel, ConsentMethod

REQUIRED = ("first_name", "last_name", "procedure", "performed_at")
# An optional caregiver: a row with any of these filled in has one (domain/enrollment/caregiver.py).
CAREGIVER_COLUMNS = (
    "caregiver_name",
    "caregiver_relationship",
    "caregiver_phone",
    "caregiver_email",
    "caregiver_language",
    "caregiver_sms_consent",
    "caregiver_email_consent",
)
OPTIONAL = (
    "phone",
    "email",
    "timezone",
    "language",
    "levels",
    "overnight",
    "external_id",
    "sms_consent",
    "email_consent",
    "more_sms",
    *CAREGIVER_COLUMNS,
)
MAX_ROWS = 10_000
TIME_FORMATS = ("%Y-%m-%d %H:%M", "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M %p")
TRUE = {"yes", "y", "true", "1", "x"}
FALSE = {"no", "n", "false", "0", ""}


class BadFile(ReminderError):
    """The file as a whole cannot be read (no rows are enrolled from it)."""

    field = "file"


@dataclass(frozen=True)
class CsvRow:
    number: int  # the line in the file where the row starts; the header is line 1
    values: dict[str, str]

    @property
    def patient(self) -> str:
        name = f"{self.values.get('first_name', '')} {self.values.get('last_name', '')}".strip()
        # Shown on the report as written, minus what no database column can hold (a NUL).
        return "".join(ch if ch.isprintable() else "\ufffd" for ch in name)


def read_csv(data: bytes | str) -> list[CsvRow]:
    """Parse the file's header and rows, or raise BadFile saying what to fix."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise BadFile(
                "the file is not UTF-8 text; save it from the spreadsheet as CSV UTF-8"
            ) from None
    data = data.removeprefix("\ufeff")  # Excel's byte-order mark, also in text already decoded
    reader = csv.DictReader(io.StringIO(data, newline=""))
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    if not header:
        raise BadFile("the file is empty; the first line must name the columns")
    missing = [c for c in REQUIRED if c not in header]
    # "reason" is the column the rejected-rows download adds: that file uploads again as is.
    unknown = [h for h in header if h and h not in REQUIRED + OPTIONAL + ("reason",)]
    if missing or unknown:
        problems = []
        if missing:
            problems.append("missing column(s) " + ", ".join(missing))
        if unknown:
            problems.append("unknown column(s) " + ", ".join(unknown))
        raise BadFile("; ".join(problems) + ". Columns are: " + ", ".join(REQUIRED + OPTIONAL))
    reader.fieldnames = header
    rows = []
    try:
        start = reader.line_num + 1
        for raw in reader:
            values = {k: (v or "").strip() for k, v in raw.items() if k and k != "reason"}
            if any(values.values()):
                rows.append(CsvRow(number=start, values=values))
            start = reader.line_num + 1
            if len(rows) > MAX_ROWS:
                raise BadFile(f"the file has more than {MAX_ROWS} rows; split it")
    except csv.Error as exc:
        raise BadFile(f"line {reader.line_num}: {exc}") from None
    if not rows:
        raise BadFile("the file has a header but no rows")
    return rows


def row_command(
    row: CsvRow, *, default_timezone: str, enrolled_by: str
) -> tuple[EnrollPatient, dict[str, str]]:
    """The row as an enrollment request, and the columns that could not even be read.

    An unreadable column gets a stand-in in the request; the enrollment reports the
    column's own message instead of anything about the stand-in.
    """
    v = row.values
    unreadable: dict[str, str] = {}
    more_sms = _flag(v, "more_sms", unreadable)
    consents = tuple(
        give
        for give in (
            _consent(v.get("sms_consent", ""), Channel.SMS, more_sms, unreadable),
            _consent(v.get("email_consent", ""), Channel.EMAIL, False, unreadable),
        )
        if give is not None
    )
    cmd = EnrollPatient(
        first_name=v.get("first_name", ""),
        last_name=v.get("last_name", ""),
        procedure=v.get("procedure", ""),
        performed_at=_when(v.get("performed_at", ""), unreadable),
        timezone=v.get("timezone") or default_timezone,
        phone=v.get("phone") or None,
        email=v.get("email") or None,
        language=v.get("language") or "en",
        levels=_levels(v.get("levels", ""), unreadable),
        overnight=_flag(v, "overnight", unreadable),
        external_id=v.get("external_id") or None,
        consents=consents,
        enrolled_by=enrolled_by,
        caregiver=_caregiver(v, unreadable),
    )
    return cmd, unreadable


def _caregiver(v: dict[str, str], unreadable: dict[str, str]) -> AddCaregiver | None:
    if not any(v.get(c) for c in CAREGIVER_COLUMNS):
        return None
    consent = {}
    for column in ("caregiver_sms_consent", "caregiver_email_consent"):
        word = v.get(column, "").lower()
        consent[column] = word in TRUE or word in ("verbal", "written")
        if not consent[column] and word not in FALSE:
            unreadable[column] = f"{column} {word[:40]!r} must be yes or no"
    return AddCaregiver(
        name=v.get("caregiver_name", ""),
        relationship=v.get("caregiver_relationship", ""),
        phone=v.get("caregiver_phone") or None,
        email=v.get("caregiver_email") or None,
        language=v.get("caregiver_language") or None,
        sms_consent=consent["caregiver_sms_consent"],
        email_consent=consent["caregiver_email_consent"],
    )


def _when(text: str, unreadable: dict[str, str]) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for fmt in TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    shown = text if len(text) <= 40 else text[:40] + "..."
    unreadable["performed_at"] = (
        f"{shown!r} is not a date and time; write 2026-03-07 14:30 (the patient's local time)"
    )
    return datetime(2000, 1, 1)


def _levels(text: str, unreadable: dict[str, str]) -> int:
    if not text:
        return 1
    try:
        return int(text)
    except ValueError:
        shown = text if len(text) <= 40 else text[:40] + "..."
        unreadable["levels"] = f"levels {shown!r} is not a whole number"
        return 1


def _flag(values: dict[str, str], column: str, unreadable: dict[str, str]) -> bool:
    text = values.get(column, "").lower()
    if text in TRUE:
        return True
    if text not in FALSE:
        unreadable[column] = f"{column} {text[:40]!r} must be yes or no"
    return False


def _consent(
    text: str, channel: Channel, more: bool, unreadable: dict[str, str]
) -> GiveConsent | None:
    word = text.strip().lower()
    if word in ("", "no", "none", "n"):
        return None
    if word in ("yes", "y"):
        word = ConsentMethod.VERBAL.value
    try:
        method = ConsentMethod(word)
    except ValueError:
        column = f"{channel.value}_consent"
        unreadable[column] = f"{column} {text[:40]!r} must be verbal, written or empty (no consent)"
        # Stand in with the consent the column meant to give, so no second error follows.
        method = ConsentMethod.VERBAL
    return GiveConsent(channel, method, more_frequent_sms=more)
