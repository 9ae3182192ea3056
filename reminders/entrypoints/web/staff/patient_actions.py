"""The actions on a patient's page: cancel, restart, correct the time, channels, send again."""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from reminders.bootstrap import Container
from reminders.domain.enrollment.commands import GiveConsent
from reminders.domain.errors import ReminderError
from reminders.domain.model import Channel
from reminders.domain.staff.accounts import ResendNeedsConfirmation, StaffUser
from reminders.entrypoints.web.deps import ContainerDep, FormDep, Id, StaffDep
from reminders.entrypoints.web.staff.forms import consent_method, parse_local
from reminders.entrypoints.web.staff.pages import flash, render
from reminders.entrypoints.web.staff.patients import patient_page
from reminders.services.enrollments import care, enrollment
from reminders.services.enrollments import resend as sending_again

router = APIRouter(prefix="/staff", include_in_schema=False)


def _act(
    request: Request,
    c: Container,
    user: StaffUser,
    enrollment_id: Id,
    action: Any,
    done: str,
) -> Response:
    """Run a staff action; on a domain error show the patient page with it, else redirect."""
    try:
        action()
    except ReminderError as exc:
        if exc.field == "id":
            return render(
                request, "error.html", {"message": exc.message}, status_code=404, user=user
            )
        return patient_page(
            request, c, user, enrollment_id, {exc.field or "form": exc.message}, status_code=422
        )
    flash(request, done)
    return RedirectResponse(f"/staff/patients/{enrollment_id}", status_code=303)


def replan(
    request: Request,
    c: Container,
    user: StaffUser,
    enrollment_id: Id,
    use_case: Any,
    done: str,
    **changes: Any,
) -> Response:
    """A care change that plans the unsent messages again (restart, new time, channels)."""
    return _act(
        request,
        c,
        user,
        enrollment_id,
        lambda: use_case(
            enrollment_id,
            uow=c.uow(),
            planning=c.planning,
            by=user.username,
            now=c.clock(),
            **changes,
        ),
        done,
    )


@router.post("/patients/{enrollment_id}/cancel")
def cancel(
    request: Request, enrollment_id: Id, c: ContainerDep, user: StaffDep, form: FormDep
) -> Response:
    reason = str(form.get("reason") or "").strip()  # its length is checked by the service
    if not reason:
        # A written reason makes stopping a patient's messages a deliberate act, never a mis-tap.
        errors = {"reason": "Write why the messages should stop; it goes in the record."}
        return patient_page(request, c, user, enrollment_id, errors, status_code=422)
    return _act(
        request,
        c,
        user,
        enrollment_id,
        lambda: enrollment.cancel(
            enrollment_id, uow=c.uow(), by=user.username, reason=reason, now=c.clock()
        ),
        "Enrollment cancelled: no more messages will go out.",
    )


@router.post("/patients/{enrollment_id}/restart")
def restart(
    request: Request, enrollment_id: Id, c: ContainerDep, user: StaffDep, form: FormDep
) -> Response:
    return replan(
        request,
        c,
        user,
        enrollment_id,
        care.restart,
        "Messages restarted: upcoming ones will go out; past ones will not.",
    )


@router.post("/patients/{enrollment_id}/reschedule")
def reschedule(
    request: Request, enrollment_id: Id, c: ContainerDep, user: StaffDep, form: FormDep
) -> Response:
    errors: dict[str, str] = {}
    when = parse_local(str(form.get("performed_at") or ""), errors)
    if when is None:
        return patient_page(request, c, user, enrollment_id, errors, status_code=422)
    return replan(
        request,
        c,
        user,
        enrollment_id,
        care.update_enrollment,
        "Procedure time corrected; the messages not yet sent were planned again.",
        performed_at=when,
    )


@router.post("/patients/{enrollment_id}/preferences")
def preferences(
    request: Request, enrollment_id: Id, c: ContainerDep, user: StaffDep, form: FormDep
) -> Response:
    errors: dict[str, str] = {}
    channels = [
        GiveConsent(ch, consent_method(str(form.get(f"consent_{ch.value}_method") or ""), errors))
        for ch in Channel
        if form.get(f"consent_{ch.value}")
    ]
    if errors:
        return patient_page(request, c, user, enrollment_id, errors, status_code=422)
    return replan(
        request,
        c,
        user,
        enrollment_id,
        care.update_enrollment,
        "Saved; the messages not yet sent follow the new channels and language.",
        channels=channels,
        language=str(form.get("language") or "") or None,
    )


@router.post("/patients/{enrollment_id}/messages/{message_id}/resend")
def resend(
    request: Request,
    enrollment_id: Id,
    message_id: Id,
    c: ContainerDep,
    user: StaffDep,
    form: FormDep,
) -> Response:
    send = partial(
        sending_again.resend,
        enrollment_id,
        message_id,
        uow=c.uow(),
        delivery=c.delivery,
        by=user.username,
        now=c.clock(),
        confirm=form.get("confirm") == "yes",
    )
    try:
        send()
    except ResendNeedsConfirmation as exc:  # the patient answered: the nurse decides
        errors = {"message": exc.message}
        return patient_page(
            request, c, user, enrollment_id, errors, status_code=409, confirm_resend=message_id
        )
    except ReminderError as exc:
        if exc.field == "id":
            return render(
                request, "error.html", {"message": exc.message}, status_code=404, user=user
            )
        errors = {"message": exc.message}  # said beside the message, where the button was
        return patient_page(
            request, c, user, enrollment_id, errors, status_code=422, resend_for=message_id
        )
    flash(request, "The message will be sent again.")
    return RedirectResponse(f"/staff/patients/{enrollment_id}#m-{message_id}", status_code=303)
