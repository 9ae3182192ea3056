"""The outcomes page under /staff/outcomes: what the follow-up achieves, as figures, charts and CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from reminders.adapters.db.staff.outcomes_repository import Cohort
from reminders.bootstrap import Container
from reminders.domain.planning.timing import zone_named
from reminders.entrypoints.web.deps import ContainerDep, StaffDep
from reminders.entrypoints.web.staff.audit import ReadAuditDep
from reminders.entrypoints.web.staff.pages import render
from reminders.services.staff import outcomes

router = APIRouter(prefix="/staff", include_in_schema=False)
DEFAULT_DAYS = 90
MAX_DAYS = 3 * 366


def _cohort(
    c: Container, start: str, end: str, procedure: str
) -> tuple[Cohort | None, dict[str, str], dict[str, str]]:
    """Read the form: dates in the clinic's zone, `to` inclusive. (cohort, errors, values)."""
    zone = zone_named(c.settings.clinic_timezone)
    today = c.clock().astimezone(zone).date()
    errors: dict[str, str] = {}

    def day(raw: str, name: str, default: date) -> date:
        if not raw.strip():
            return default
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            errors[name] = "Write a date as YYYY-MM-DD."
            return default

    first = day(start, "from", today - timedelta(days=DEFAULT_DAYS))
    last = day(end, "to", today)
    if not errors and last < first:
        errors["to"] = "The end date is before the start date."
    if not errors and (last - first).days > MAX_DAYS:
        errors["to"] = "Choose at most three years."
    known = outcomes.procedures(uow=c.uow())
    procedure = procedure.strip()
    if procedure and procedure not in known:
        errors["procedure"] = "No patient was enrolled for this procedure."
    values = {"from": first.isoformat(), "to": last.isoformat(), "procedure": procedure}
    if errors:
        return None, errors, values
    cohort = Cohort(
        start=datetime.combine(first, time(0), zone),
        end=datetime.combine(last + timedelta(days=1), time(0), zone),
        procedure=procedure or None,
    )
    return cohort, errors, values


def _figures(c: Container, cohort: Cohort) -> outcomes.Outcomes:
    return outcomes.compute(
        uow=c.uow(),
        cohort=cohort,
        target=timedelta(minutes=c.settings.ack_minutes),
        now=c.clock(),
    )


@router.get("/outcomes", response_class=HTMLResponse)
def outcomes_page(
    request: Request,
    c: ContainerDep,
    user: StaffDep,
    procedure: str = "",
) -> Response:
    q = request.query_params
    cohort, errors, values = _cohort(c, q.get("from", ""), q.get("to", ""), procedure)
    context: dict[str, Any] = {
        "o": _figures(c, cohort) if cohort else None,
        "errors": errors,
        "values": values,
        "procedures": outcomes.procedures(uow=c.uow()),
    }
    return render(request, "outcomes.html", context, user=user, status_code=422 if errors else 200)


@router.get("/outcomes.csv")
def outcomes_csv(
    request: Request, c: ContainerDep, user: StaffDep, reads: ReadAuditDep, procedure: str = ""
) -> Response:
    q = request.query_params
    cohort, errors, values = _cohort(c, q.get("from", ""), q.get("to", ""), procedure)
    if cohort is None:
        return Response("; ".join(errors.values()), status_code=422, media_type="text/plain")
    out = io.StringIO()
    csv.writer(out).writerows(outcomes.csv_rows(_figures(c, cohort)))
    name = f"outcomes-{values['from']}-{values['to']}.csv"
    # Aggregate figures only, no patient in them; an export is still recorded (ASVS 7.1).
    reads(actor=user.username, what=f"export {name} ({procedure or 'all procedures'})")
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
