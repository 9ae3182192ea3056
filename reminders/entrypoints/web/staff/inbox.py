"""The escalation inbox under /staff/inbox: red flags, no-answer tasks and texts for staff."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from reminders.bootstrap import Container
from reminders.domain.errors import ReminderError
from reminders.domain.inbound.escalations import EscalationNotFound, InboundNotFound
from reminders.entrypoints.web import staff_session
from reminders.entrypoints.web.deps import ContainerDep, FormDep, Id, StaffDep
from reminders.entrypoints.web.staff.audit import ReadAuditDep, list_read
from reminders.entrypoints.web.staff.forms import page_number
from reminders.entrypoints.web.staff.pages import flash, render
from reminders.services.enrollments.enrollment import get_enrollment
from reminders.services.replies import alerts
from reminders.services.replies import inbox as staff_inbox
from reminders.services.staff import worklist

router = APIRouter(prefix="/staff/inbox", include_in_schema=False)
RESOLVED_PAGE = 20


def _context(c: Container, errors: dict[str, str], page: int) -> dict[str, Any]:
    open_ones = staff_inbox.open_escalations(uow=c.uow())
    resolved = staff_inbox.recently_resolved(uow=c.uow(), limit=page * RESOLVED_PAGE + 1)
    return {
        "red_flags": [e for e in open_ones if e.kind == "red_flag"],
        "tasks": [e for e in open_ones if e.kind != "red_flag"],
        "texts": staff_inbox.texts_needing_staff(uow=c.uow()),
        "resolved": resolved[(page - 1) * RESOLVED_PAGE : page * RESOLVED_PAGE],
        "resolved_page": page,
        "more_resolved": len(resolved) > page * RESOLVED_PAGE,
        "zone": c.settings.clinic_timezone,
        "oncall": alerts.OnCall.from_settings(c.settings),
        "errors": errors,
        "e": None,
    }


@router.get("", response_class=HTMLResponse)
def inbox(
    request: Request,
    c: ContainerDep,
    user: StaffDep,
    reads: ReadAuditDep,
    page: str = "1",
    fragment: bool = False,
) -> Response:
    # An action's error comes back once, after the redirect, beside the item it concerns.
    errors = request.session.pop("inbox_errors", None) or {}
    context = _context(c, errors, page_number(page, last=1000))
    shown = {
        f"{k}-{x.id}"
        for x in context["red_flags"] + context["tasks"]
        for k in ("note", "escalation")
    }
    shown |= {f"text-{t.id}" for t in context["texts"]}
    for key in [k for k in errors if k not in shown]:  # its item left the list: say it on top
        errors["form"] = errors.pop(key)
    _record_read(request, reads, user.username, context, fragment=fragment)
    if fragment:  # the live part, fetched by static/live.js every few seconds
        return render(request, "_inbox_live.html", context, user=user)
    return render(request, "inbox.html", context, user=user)


def _record_read(
    request: Request, reads: Any, actor: str, context: dict[str, Any], *, fragment: bool
) -> None:
    """Audit what the inbox showed: every page load, and a live refresh that shows new items.

    The live part refreshes every 20 s; recording each unchanged refresh would bury the log,
    so a refresh is recorded only when its items differ from the last ones recorded for
    this browser (a digest of ids kept in the session, nothing about the patients).
    """
    items = context["red_flags"] + context["tasks"] + context["texts"] + context["resolved"]
    what = list_read("inbox", len(items), [x.enrollment_id for x in items])
    keys = sorted(f"{type(x).__name__}{x.id}" for x in items)
    digest = hashlib.sha256(" ".join(keys).encode()).hexdigest()[:16]
    seen = request.session.get("inbox_read") == digest
    if fragment and seen:
        return
    if not seen:  # the cookie is rewritten only when what was shown changed
        request.session["inbox_read"] = digest
    reads(actor=actor, what=what + (" (live refresh)" if fragment else ""))


@router.get("/count")
def count(c: ContainerDep, user: StaffDep) -> JSONResponse:
    """Open items for the Inbox tab's badge (static/live.js polls it)."""
    return JSONResponse({"open": worklist.open_items(uow=c.uow())})


def _note(form: Any) -> str:
    return str(form.get("note") or "").strip()  # its length is checked by the service


@router.post("/escalations/{escalation_id}/acknowledge")
def acknowledge(
    request: Request, escalation_id: Id, c: ContainerDep, user: StaffDep, form: FormDep
) -> Response:
    return _act(
        request,
        c,
        user,
        escalation_id,
        lambda: staff_inbox.acknowledge(
            uow=c.uow(),
            escalation_id=escalation_id,
            by=user.username,
            note=_note(form),
            now=c.clock(),
            client_addr=staff_session.client_addr(request),
        ),
        f"Escalation #{escalation_id} acknowledged.",
        back=_back(form),
    )


@router.post("/escalations/{escalation_id}/resolve")
def resolve(
    request: Request, escalation_id: Id, c: ContainerDep, user: StaffDep, form: FormDep
) -> Response:
    return _act(
        request,
        c,
        user,
        escalation_id,
        lambda: staff_inbox.resolve(
            uow=c.uow(),
            escalation_id=escalation_id,
            by=user.username,
            note=_note(form),
            now=c.clock(),
            client_addr=staff_session.client_addr(request),
        ),
        f"Escalation #{escalation_id} resolved.",
        back=_back(form),
    )


def _act(
    request: Request,
    c: Container,
    user: Any,
    item: int,
    action: Any,
    done: str,
    anchor: str = "escalation",
    back: str | None = None,
) -> Response:
    """Run an inbox action and go back to the list (or the patient page it came from)."""
    try:
        action()
    except (EscalationNotFound, InboundNotFound) as exc:
        return render(request, "error.html", {"message": exc.message}, status_code=404, user=user)
    except ReminderError as exc:
        if back:  # acted on from the patient page: the error shows there, once, on top
            flash(request, exc.message, "bad")
            return RedirectResponse(back, status_code=303)
        request.session["inbox_errors"] = {f"{exc.field or anchor}-{item}": exc.message}
        # No #fragment: the page moves the focus (and the view) to the field in error.
        return RedirectResponse("/staff/inbox", status_code=303)
    flash(request, done)
    return RedirectResponse(back or f"/staff/inbox#{anchor}-{item}", status_code=303)


def _back(form: Any) -> str | None:
    """The patient page an action was taken from; nothing else (no open redirect)."""
    back = str(form.get("back") or "")
    return back if re.fullmatch(r"/staff/patients/\d{1,10}", back) else None


@router.post("/texts/{inbound_id}/reviewed")
def reviewed(
    request: Request, inbound_id: Id, c: ContainerDep, user: StaffDep, form: FormDep
) -> Response:
    return _act(
        request,
        c,
        user,
        inbound_id,
        lambda: staff_inbox.mark_reviewed(
            uow=c.uow(), inbound_id=inbound_id, by=user.username, now=c.clock()
        ),
        "Marked as handled.",
        anchor="text",
        back=_back(form),
    )


@router.get("/patients/{enrollment_id}", response_class=HTMLResponse)
def patient_replies(
    request: Request, enrollment_id: Id, c: ContainerDep, user: StaffDep, reads: ReadAuditDep
) -> Response:
    try:
        e = get_enrollment(enrollment_id, uow=c.uow())
    except ReminderError as exc:
        return render(request, "error.html", {"message": exc.message}, status_code=404, user=user)
    texts = staff_inbox.replies_for_enrollment(uow=c.uow(), enrollment_id=enrollment_id)
    reads(actor=user.username, what=f"inbox patient page: {len(texts)} text(s)", enrollment_id=e.id)
    return render(
        request,
        "inbox.html",
        {"e": e, "texts": texts, "zone": e.patient.timezone, "red_flags": [], "tasks": []},
        user=user,
    )
