"""CSV intake: read a file of procedures, enroll each row, record a per-row report.

A bad row is reported and skipped; it never blocks the good ones. Every row goes
through the same idempotent enrollment as the API, so running a file twice enrolls
nobody twice (the second run reports those rows as already enrolled).
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import InterfaceError, OperationalError

from reminders.adapters.care_plans import CarePlanLibrary
from reminders.adapters.unit_of_work import UnitOfWork
from reminders.domain.commands import EnrollPatient, GiveConsent
from reminders.domain.errors import ReminderError
from reminders.domain.model import Channel, ConsentMethod
from reminders.domain.schedule import SchedulePolicy
from reminders.services import care

log = logging.getLogger(__name__)

REQUIRED = ("first_name", "last_name", "procedure", "performed_at")
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
        return f"{self.values.get('first_name', '')} {self.values.get('last_name', '')}".strip()


@dataclass(frozen=True)
class RowOutcome:
    row_number: int
    outcome: str  # enrolled | duplicate | rejected
    patient: str
    enrollment_id: int | None = None
    field: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class ImportSummary:
    run_id: int
    enrolled: int
    duplicates: int
    rejected: int


def read_csv(data: bytes | str) -> list[CsvRow]:
    """Parse the file's header and rows, or raise BadFile saying what to fix."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise BadFile(
                "the file is not UTF-8 text; save it from the spreadsheet as CSV UTF-8"
            ) from None
    reader = csv.DictReader(io.StringIO(data, newline=""))
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    if not header:
        raise BadFile("the file is empty; the first line must name the columns")
    missing = [c for c in REQUIRED if c not in header]
    unknown = [h for h in header if h and h not in REQUIRED + OPTIONAL]
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
            values = {k: (v or "").strip() for k, v in raw.items() if k}
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


def row_command(row: CsvRow, *, default_timezone: str, enrolled_by: str) -> EnrollPatient:
    """Turn one row into an enrollment request, or raise ReminderError naming the column."""
    v = row.values
    consents = tuple(
        give
        for give in (
            _consent(v.get("sms_consent", ""), Channel.SMS, _flag(v, "more_sms")),
            _consent(v.get("email_consent", ""), Channel.EMAIL, False),
        )
        if give is not None
    )
    return EnrollPatient(
        first_name=v["first_name"],
        last_name=v["last_name"],
        procedure=v["procedure"],
        performed_at=_when(v["performed_at"]),
        timezone=v.get("timezone") or default_timezone,
        phone=v.get("phone") or None,
        email=v.get("email") or None,
        language=v.get("language") or "en",
        levels=_levels(v.get("levels", "")),
        overnight=_flag(v, "overnight"),
        external_id=v.get("external_id") or None,
        consents=consents,
        enrolled_by=enrolled_by,
    )


def _when(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for fmt in TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ReminderError(
        f"{text!r} is not a date and time; write 2026-03-07 14:30 (the patient's local time)",
        field="performed_at",
    )


def _levels(text: str) -> int:
    if not text:
        return 1
    try:
        return int(text)
    except ValueError:
        raise ReminderError(f"levels {text!r} is not a whole number", field="levels") from None


def _flag(values: dict[str, str], column: str) -> bool:
    text = values.get(column, "").lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ReminderError(f"{column} {text!r} must be yes or no", field=column)


def _consent(text: str, channel: Channel, more: bool) -> GiveConsent | None:
    word = text.strip().lower()
    if word in ("", "no", "none", "n"):
        return None
    if word in ("yes", "y"):
        word = ConsentMethod.VERBAL.value
    try:
        method = ConsentMethod(word)
    except ValueError:
        raise ReminderError(
            f"{channel.value}_consent {text!r} must be verbal, written or empty (no consent)",
            field=f"{channel.value}_consent",
        ) from None
    return GiveConsent(channel, method, more_frequent_sms=more)


def start_import(*, uow: UnitOfWork, filename: str, rows: int, by: str, now: datetime) -> int:
    """Record a new import run and return its id (the rows are enrolled by run_import)."""
    with uow:
        run_id = uow.imports.start(filename=filename[:255], created_by=by, total=rows, now=now)
        uow.commit()
        return run_id


def run_import(
    run_id: int,
    rows: list[CsvRow],
    *,
    uow: UnitOfWork,
    plans: CarePlanLibrary,
    policy: SchedulePolicy,
    clock: Callable[[], datetime],
    by: str,
    default_timezone: str,
    skew: timedelta = timedelta(minutes=10),
    default_region: str = "US",
    on_row: Callable[[RowOutcome], None] | None = None,
) -> ImportSummary:
    """Enroll each row in its own transaction and record what happened to it."""
    counts = {"enrolled": 0, "duplicate": 0, "rejected": 0}
    try:
        for row in rows:
            outcome = _enroll_row(
                row,
                uow=uow,
                plans=plans,
                policy=policy,
                now=clock(),
                by=by,
                via=f"CSV import {run_id}",
                default_timezone=default_timezone,
                skew=skew,
                default_region=default_region,
            )
            with uow:
                uow.imports.add_row(
                    run_id,
                    row_number=outcome.row_number,
                    outcome=outcome.outcome,
                    patient=outcome.patient,
                    enrollment_id=outcome.enrollment_id,
                    field=outcome.field,
                    message=outcome.message,
                )
                uow.commit()
            counts[outcome.outcome] += 1
            if on_row is not None:
                on_row(outcome)
    except Exception as exc:
        log.exception("import %s stopped", run_id)
        with uow:
            uow.imports.finish(run_id, now=clock(), error=f"stopped: {exc.__class__.__name__}")
            uow.commit()
        raise
    with uow:
        uow.imports.finish(run_id, now=clock())
        uow.commit()
    return ImportSummary(run_id, counts["enrolled"], counts["duplicate"], counts["rejected"])


def _enroll_row(
    row: CsvRow,
    *,
    uow: UnitOfWork,
    plans: CarePlanLibrary,
    policy: SchedulePolicy,
    now: datetime,
    by: str,
    via: str,
    default_timezone: str,
    skew: timedelta,
    default_region: str,
) -> RowOutcome:
    try:
        cmd = row_command(row, default_timezone=default_timezone, enrolled_by=by)
        result = care.enroll(
            cmd,
            uow=uow,
            plans=plans,
            policy=policy,
            now=now,
            via=via,
            skew=skew,
            default_region=default_region,
        )
    except ReminderError as exc:
        return RowOutcome(row.number, "rejected", row.patient, field=exc.field, message=exc.message)
    except (OperationalError, InterfaceError):
        raise  # the database is gone: stop the run rather than reject every row
    except Exception:
        log.exception("import row %s failed", row.number)
        return RowOutcome(
            row.number,
            "rejected",
            row.patient,
            message="could not be enrolled because of an unexpected error (see the server log)",
        )
    return RowOutcome(
        row.number,
        "enrolled" if result.created else "duplicate",
        row.patient,
        enrollment_id=result.enrollment.id,
        message=None if result.created else "already enrolled; nothing changed",
    )


def import_report(
    *, uow: UnitOfWork, run_id: int
) -> tuple[dict[str, object], list[dict[str, object]]]:
    """Return an import run and its rows, for the report page."""
    with uow:
        run = uow.imports.get(run_id)
        if run is None:
            raise ReminderError(f"no import {run_id}", field="id")
        return run, list(uow.imports.rows(run_id))


def recent_imports(*, uow: UnitOfWork) -> list[dict[str, object]]:
    with uow:
        return list(uow.imports.recent())
