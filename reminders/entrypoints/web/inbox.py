"""The escalation inbox under /staff/inbox: red flags, no-answer tasks and texts for staff."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from reminders.bootstrap import Container
from reminders.domain.errors import ReminderError
from reminders.domain.replies import EscalationNotFound, InboundNotFound
from reminders.entrypoints.web.deps import ContainerDep, FormDep, Id, StaffDep
from reminders.entrypoints.web.pages import flash, render
from reminders.services import alerts, replies
from reminders.services import inbox as staff_inbox
from reminders.services.enrollment import get_enrollment

router = APIRouter(prefix="/staff/inbox", include_in_schema=False)


def _context(c: Container, errors: dict[str, str] | None = None) -> dict[str, Any]:
    open_ones = staff_inbox.open_escalations(uow=c.uow())
    return {
        "red_flags": [e for e in open_ones if e.kind == "red_flag"],
        "tasks": [e for e in open_ones if e.kind != "red_flag"],
        "texts": replies.texts_needing_staff(uow=c.uow()),
        "resolved": staff_inbox.recently_resolved(uow=c.uow()),
        "zone": c.settings.clinic_timezone,
        "oncall": alerts.OnCall.from_settings(c.settings),
        "errors": errors or {},
        "e": None,
    }


@router.get("", response_class=HTMLResponse)
def inbox(request: Request, c: ContainerDep, user: StaffDep) -> Response:
    return render(request, "inbox.html", _context(c), user=user)


def _note(form: Any) -> str:
    return str(form.get("note") or "").strip()[:2000]


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
        ),
        f"Escalation #{escalation_id} acknowledged.",
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
        ),
        f"Escalation #{escalation_id} resolved.",
    )


def _act(request: Request, c: Container, user: Any, item: int, action: Any, done: str) -> Response:
    try:
        action()
    except (EscalationNotFound, InboundNotFound) as exc:
        return render(request, "error.html", {"message": exc.message}, status_code=404, user=user)
    except ReminderError as exc:
        errors = {f"{exc.field or 'form'}-{item}": exc.message, "form": exc.message}
        return render(request, "inbox.html", _context(c, errors), status_code=422, user=user)
    flash(request, done)
    return RedirectResponse("/staff/inbox", status_code=303)


@router.post("/texts/{inbound_id}/reviewed")
def reviewed(
    request: Request, inbound_id: Id, c: ContainerDep, user: StaffDep, form: FormDep
) -> Response:
    return _act(
        request,
        c,
        user,
        inbound_id,
        lambda: replies.mark_reviewed(
            uow=c.uow(), inbound_id=inbound_id, by=user.username, now=c.clock()
        ),
        "Marked as handled.",
    )


@router.get("/patients/{enrollment_id}", response_class=HTMLResponse)
def patient_replies(
    request: Request, enrollment_id: Id, c: ContainerDep, user: StaffDep
) -> Response:
    try:
        e = get_enrollment(enrollment_id, uow=c.uow())
    except ReminderError as exc:
        return render(request, "error.html", {"message": exc.message}, status_code=404, user=user)
    texts = replies.replies_for_enrollment(uow=c.uow(), enrollment_id=enrollment_id)
    return render(
        request,
        "inbox.html",
        {"e": e, "texts": texts, "zone": e.patient.timezone, "red_flags": [], "tasks": []},
        user=user,
    )
