"""Staff page actions: add, change or remove a patient's caregiver (audited, re-planned)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from reminders.domain.errors import InvalidEnrollment, ReminderError
from reminders.entrypoints.web.deps import ContainerDep, FormDep, Id, StaffDep
from reminders.entrypoints.web.staff.enroll import caregiver_command
from reminders.entrypoints.web.staff.forms import typed_values
from reminders.entrypoints.web.staff.pages import flash, render
from reminders.entrypoints.web.staff.patients import patient_page
from reminders.services.enrollments.caregivers import set_caregiver

router = APIRouter(prefix="/staff", include_in_schema=False)


@router.post("/patients/{enrollment_id}/caregiver")
def save_caregiver(
    request: Request, enrollment_id: Id, c: ContainerDep, user: StaffDep, form: FormDep
) -> Response:
    """Add or change the caregiver; the form left empty removes it."""
    values = typed_values(form)
    wanted = caregiver_command(values)
    try:
        set_caregiver(
            enrollment_id, wanted, uow=c.uow(), planning=c.planning, by=user.username, now=c.clock()
        )
    except InvalidEnrollment as exc:
        return patient_page(
            request, c, user, enrollment_id, exc.errors, status_code=422, caregiver_values=values
        )
    except ReminderError as exc:
        if exc.field == "id":
            return render(
                request, "error.html", {"message": exc.message}, status_code=404, user=user
            )
        errors = {exc.field or "form": exc.message}
        return patient_page(request, c, user, enrollment_id, errors, status_code=422)
    flash(request, "Caregiver saved." if wanted else "Caregiver removed.")
    return RedirectResponse(f"/staff/patients/{enrollment_id}#caregiver-card", status_code=303)


@router.post("/patients/{enrollment_id}/caregiver/remove")
def remove_caregiver(
    request: Request, enrollment_id: Id, c: ContainerDep, user: StaffDep, form: FormDep
) -> Response:
    """Remove the caregiver, once the nurse has said yes to the question (never in one tap)."""
    if form.get("confirm") != "yes":
        try:
            return patient_page(request, c, user, enrollment_id, {}, confirm_remove_caregiver=True)
        except ReminderError as exc:
            return render(
                request, "error.html", {"message": exc.message}, status_code=404, user=user
            )
    try:
        set_caregiver(
            enrollment_id, None, uow=c.uow(), planning=c.planning, by=user.username, now=c.clock()
        )
    except ReminderError as exc:
        status = 404 if exc.field == "id" else 422
        return render(
            request, "error.html", {"message": exc.message}, status_code=status, user=user
        )
    flash(request, "Caregiver removed: no more messages go to them.")
    return RedirectResponse(f"/staff/patients/{enrollment_id}", status_code=303)
