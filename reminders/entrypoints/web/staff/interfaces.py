"""Interfaces: every HL7 message's outcome (admins), and discharges waiting for consent (staff)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from reminders.domain.enrollment.commands import GiveConsent
from reminders.domain.errors import InvalidEnrollment, ReminderError
from reminders.domain.model import Channel
from reminders.entrypoints.hl7.listener import door_of
from reminders.entrypoints.web.deps import AdminDep, ContainerDep, FormDep, StaffDep
from reminders.entrypoints.web.staff.forms import consent_method
from reminders.entrypoints.web.staff.pages import flash, render
from reminders.services.enrollments import hl7_intake
from reminders.services.writeback import chart

router = APIRouter(prefix="/staff/interfaces", include_in_schema=False)


@router.get("", response_class=HTMLResponse)
def interfaces(request: Request, c: ContainerDep, user: AdminDep) -> Response:
    """The HL7 feed's messages, newest first, and the write-back outbox's state."""
    context = {
        "messages": hl7_intake.recent_messages(c.uow),
        "waiting": hl7_intake.consent_needed_count(c.uow),
        "outbox": chart.outbox_counts(c.uow()),
        "writeback_url": c.settings.fhir_writeback_url,
        "hl7_port": c.settings.hl7_port,
    }
    return render(request, "interfaces.html", context, user=user)


@router.get("/consent", response_class=HTMLResponse)
def consent_needed(request: Request, c: ContainerDep, user: StaffDep) -> Response:
    return _consent_page(request, c, user, {})


def _consent_page(
    request: Request, c: ContainerDep, user: StaffDep, errors: dict[str, str], status: int = 200
) -> Response:
    context = {"waiting": hl7_intake.waiting_for_consent(c.uow), "errors": errors}
    return render(request, "consent_needed.html", context, status_code=status, user=user)


@router.post("/consent/{message_id}/enroll")
def enroll_with_consent(
    request: Request, message_id: int, c: ContainerDep, user: StaffDep, form: FormDep
) -> Response:
    """Staff asked the patient and record the consent: the discharge enrolls as any would."""
    errors: dict[str, str] = {}
    given = [
        GiveConsent(channel, consent_method(str(form.get(f"{channel.value}_method") or ""), errors))
        for channel in (Channel.SMS, Channel.EMAIL)
        if form.get(f"consent_{channel.value}")
    ]
    if not given:
        errors[f"consent-{message_id}"] = "tick the channels the patient agreed to"
    if errors:
        return _consent_page(request, c, user, errors, status=422)
    try:
        eid = hl7_intake.enroll_pending(
            message_id, given, door=door_of(c), by=user.username, now=c.clock()
        )
    except InvalidEnrollment as exc:
        words = "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
        return _consent_page(request, c, user, {f"consent-{message_id}": words}, status=422)
    except ReminderError as exc:
        return _consent_page(request, c, user, {f"consent-{message_id}": exc.message}, status=422)
    flash(request, f"Enrolled from the hospital's discharge (enrollment #{eid}).")
    return RedirectResponse(f"/staff/patients/{eid}", status_code=303)


@router.post("/consent/{message_id}/dismiss")
def dismiss(
    request: Request, message_id: int, c: ContainerDep, user: StaffDep, form: FormDep
) -> Response:
    """The patient declined (or is not ours): the discharge is closed, nothing is sent."""
    hl7_intake.dismiss_pending(message_id, door=door_of(c), by=user.username, now=c.clock())
    flash(request, "Closed: this discharge will not be enrolled.")
    return RedirectResponse("/staff/interfaces/consent", status_code=303)
