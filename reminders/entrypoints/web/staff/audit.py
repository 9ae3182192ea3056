"""Staff page for admins: the audit log by user, action, patient and date; and the recorder
every read of patient data calls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from reminders.bootstrap import Container
from reminders.domain.planning.timing import zone_named
from reminders.domain.staff.limits import FILTER_MAX
from reminders.entrypoints.web import staff_session
from reminders.entrypoints.web.deps import AdminDep, ContainerDep
from reminders.entrypoints.web.staff.pages import render
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
    filters = {"actor": actor, "action": action, "patient": patient}
    filters |= {"day_from": day_from, "day_to": day_to}
    errors = {
        k: f"this filter is {len(v):,} characters long; at most {FILTER_MAX} are used"
        for k, v in filters.items()
        if len(v) > FILTER_MAX
    }
    if errors:  # said beside each field; nothing looked up
        shown = {k: v[:FILTER_MAX] for k, v in filters.items()}
        context = {**shown, "entries": [], "actions": [], "page": 1, "pages": 1, "kept": shown}
        return render(
            request, "audit.html", {**context, "errors": errors}, status_code=422, user=user
        )
    zone = zone_named(c.settings.clinic_timezone)
    start, end = _day(day_from), _day(day_to)
    enrollment = patient.strip().lstrip("#")
    # Dates are the clinic's days: from its midnight to the midnight after the last one.
    entries = audit.recent_entries(
        uow=c.uow(),
        actor=actor.strip() or None,
        action=action.strip() or None,
        enrollment_id=int(enrollment)
        if enrollment.isascii() and enrollment.isdecimal() and len(enrollment) < 10
        else None,  # "²" is a digit to isdigit() but not a number to int()
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


@dataclass(frozen=True)
class ReadAudit:
    """Records that a staff user or token saw patient data, with the request's address."""

    request: Request
    c: Container

    def __call__(self, *, actor: str, what: str, enrollment_id: int | None = None) -> None:
        audit.record_read(
            uow=self.c.uow(),
            actor=actor,
            what=what,
            now=self.c.clock(),
            enrollment_id=enrollment_id,
            client_addr=staff_session.client_addr(self.request),
        )


def read_audit(request: Request, c: ContainerDep) -> ReadAudit:
    return ReadAudit(request, c)


ReadAuditDep = Annotated[ReadAudit, Depends(read_audit)]


def _ids(ids: list[int]) -> str:
    return ", ".join(f"#{i}" for i in ids[:50]) + (" …" if len(ids) > 50 else "")


def search_read(query: str, ids: list[int]) -> str:
    """What a patient list showed: that a search was made and the enrollments it listed.

    Never the search text: it is a name, a phone number or an email, and the log must not
    become a copy of the records. The enrollments listed say whose data was seen.
    """
    head = f"patient search ({len(query)} characters)" if query else "patient list"
    return f"{head}: {len(ids)} shown" + (f" ({_ids(ids)})" if ids else "")


def list_read(head: str, items: int, ids: list[int | None]) -> str:
    """What a list of patients' items showed: how many, and the enrollments they belong to."""
    known = sorted({i for i in ids if i is not None})
    return f"{head}: {items} item(s)" + (f" of {_ids(known)}" if known else "")
