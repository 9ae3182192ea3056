"""Staff page for admins: the audit log, newest first, by user, action, patient and date."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from reminders.domain.timing import zone_named
from reminders.entrypoints.web.deps import AdminDep, ContainerDep
from reminders.entrypoints.web.pages import render
from reminders.services import audit

router = APIRouter(prefix="/staff", include_in_schema=False)
PER_PAGE = 50


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


@router.get("/audit", response_class=HTMLResponse)
def audit_log(
    request: Request,
    c: ContainerDep,
    user: AdminDep,
    actor: str = "",
    action: str = "",
    patient: str = "",
    day_from: str = "",
    day_to: str = "",
    page: int = 1,
) -> Response:
    page = max(1, min(page, 10_000))
    zone = zone_named(c.settings.clinic_timezone)
    start, end = _day(day_from), _day(day_to)
    enrollment = patient.strip().lstrip("#")
    # Dates are the clinic's days: from its midnight to the midnight after the last one.
    entries = audit.recent_entries(
        uow=c.uow(),
        actor=actor.strip()[:120] or None,
        action=action.strip()[:40] or None,
        enrollment_id=int(enrollment) if enrollment.isdigit() and len(enrollment) < 10 else None,
        since=datetime.combine(start, time(), zone) if start else None,
        until=datetime.combine(end + timedelta(days=1), time(), zone) if end else None,
        limit=PER_PAGE + 1,
        offset=(page - 1) * PER_PAGE,
    )
    kept = {k: v for k, v in request.query_params.items() if k != "page" and v}
    context = {
        "entries": entries[:PER_PAGE],
        "actor": actor,
        "action": action,
        "patient": patient,
        "day_from": day_from,
        "day_to": day_to,
        "actions": audit.actions(uow=c.uow()),
        "page": page,
        "pages": page + 1 if len(entries) > PER_PAGE else page,
        "kept": kept,
    }
    return render(request, "audit.html", context, user=user)
