"""Staff page: the enrollment form, with every wrong field shown inline at once."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from reminders.adapters.db.enrollments.patient_search import PatientQuery
from reminders.bootstrap import Container
from reminders.domain.enrollment.commands import AddCaregiver, EnrollPatient, GiveConsent
from reminders.domain.errors import InvalidEnrollment, ReminderError
from reminders.domain.model import Channel, Enrollment
from reminders.domain.planning.timing import place_zones, zone_named
from reminders.domain.staff.accounts import StaffUser
from reminders.entrypoints.web import staff_session
from reminders.entrypoints.web.deps import ContainerDep, FormDep, StaffDep
from reminders.entrypoints.web.staff.forms import consent_method, parse_local, typed_values
from reminders.entrypoints.web.staff.pages import flash, render
from reminders.services.enrollments import enrollment
from reminders.services.staff import worklist

router = APIRouter(prefix="/staff", include_in_schema=False)
# Fields the form shows an error beside; any other problem is listed above the form.
ON_THE_FORM = frozenset(
    {
        "first_name",
        "last_name",
        "phone",
        "email",
        "language",
        "timezone",
        "procedure",
        "performed_at",
        "levels",
        "external_id",
        "consent",
        *(f"caregiver_{f}" for f in ("name", "relationship", "phone", "email", "language")),
        "caregiver_consent",
    }
)


def _context(c: Container, values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    languages = sorted({lang for name in c.plans.names() for lang in c.plans.get(name).languages})
    return {
        "values": values,
        "errors": errors,
        "other_errors": {k: v for k, v in errors.items() if k not in ON_THE_FORM},
        "procedures": c.plans.names(),
        "languages": languages,
        "timezones": place_zones(),
    }


@router.get("/enroll", response_class=HTMLResponse)
def enroll_form(request: Request, c: ContainerDep, user: StaffDep) -> Response:
    zone = c.settings.clinic_timezone
    typed = request.query_params.get("timezone", "")
    # A zone in the link (?timezone=Pacific/Honolulu) starts the form in that zone.
    with suppress(ReminderError):
        zone = zone_named(typed).key if typed else zone
    now = c.clock().astimezone(zone_named(zone)).strftime(LOCAL)
    values = {
        "timezone": zone,
        "language": "en",
        "levels": "1",
        "procedure": (c.plans.names() or [""])[0],
        "performed_at": now,
        # The time filled in, and the zone it was written in: left as it was while the
        # zone changed, it is still "now", not the same clock reading somewhere else.
        "performed_at_default": now,
        "performed_at_zone": zone,
        "consent_sms_method": "verbal",
        "consent_email_method": "verbal",
    }
    return render(request, "enroll.html", _context(c, values, {}), user=user)


LOCAL = "%Y-%m-%dT%H:%M"  # a datetime-local field's value


def untouched_default(v: dict[str, str]) -> datetime | None:
    """The pre-filled time, read in the zone it was written in, if the nurse left it as it was.

    The form fills in the current time in the clinic's zone (the page's script rewrites it
    when the patient's zone changes); without the script, a Honolulu patient would
    otherwise be enrolled three hours in the future, a New York one three hours early.
    """
    typed, default = v.get("performed_at", ""), v.get("performed_at_default", "")
    if not default or typed != default:
        return None
    try:
        zone = zone_named(v.get("performed_at_zone", ""))
        return datetime.strptime(default, LOCAL).replace(tzinfo=zone)
    except (ReminderError, ValueError):
        return None


@router.post("/enroll", response_class=HTMLResponse)
def enroll(request: Request, c: ContainerDep, user: StaffDep, form: FormDep) -> Response:
    values = typed_values(form)
    cmd, unreadable = _command(values, c, user)
    try:
        result = enrollment.enroll(
            cmd,
            uow=c.uow(),
            planning=c.planning,
            now=c.clock(),
            via="staff page",
            unreadable=unreadable,
            client_addr=staff_session.client_addr(request),
        )
    except InvalidEnrollment as exc:
        errors = exc.errors
    except ReminderError as exc:
        errors = {exc.field or "form": exc.message}
    else:
        e = result.enrollment
        if result.created:
            message = f"Enrolled {e.patient.first_name} {e.patient.last_name}."
        elif e.status == "cancelled":
            message = (
                "This procedure was enrolled before and its messages were cancelled."
                " To send them again, use Restart messages below."
            )
        else:
            message = "This procedure was already enrolled; nothing was changed."
        flash(request, message)
        if result.created and (shared := _same_phone(c, e)):
            flash(request, shared, "bad")
        return RedirectResponse(f"/staff/patients/{e.id}", status_code=303)
    return render(request, "enroll.html", _context(c, values, errors), status_code=422, user=user)


def _same_phone(c: Container, e: Enrollment) -> str | None:
    """A warning when another active enrollment texts the same phone (a typo, or a family
    sharing one phone: replies could be read as the wrong patient's)."""
    digits = "".join(ch for ch in e.patient.phone or "" if ch.isdigit())
    if not digits:
        return None
    query = PatientQuery(text=digits, status="active", per_page=5)
    others = [
        r
        for r in worklist.find_patients(uow=c.uow(), query=query, now=c.clock()).rows
        if r.id != e.id and r.phone == e.patient.phone
    ]
    if not others:
        return None
    names = ", ".join(f"{r.first_name} {r.last_name} (#{r.id})" for r in others)
    return (
        f"Check the phone number: {e.patient.phone} is also the phone of {names}, enrolled"
        " and active. Texts to both go to one phone, and a reply may be read as either's."
    )


def _command(
    v: dict[str, str], c: Container, user: StaffUser
) -> tuple[EnrollPatient, dict[str, str]]:
    """The request as typed, and the fields that could not even be read (with stand-ins)."""
    errors: dict[str, str] = {}
    performed_at = (
        untouched_default(v) or parse_local(v.get("performed_at", ""), errors) or c.clock()
    )
    levels = 1
    try:
        levels = int(v.get("levels") or "1")
    except ValueError:
        errors["levels"] = "levels treated must be a whole number from 1 to 10"
    consents = []
    for channel in Channel:
        if v.get(f"consent_{channel.value}"):
            method = consent_method(v.get(f"consent_{channel.value}_method", ""), errors)
            more = channel is Channel.SMS and bool(v.get("more_sms"))
            consents.append(GiveConsent(channel, method, more_frequent_sms=more))
    cmd = EnrollPatient(
        first_name=v.get("first_name", ""),
        last_name=v.get("last_name", ""),
        procedure=v.get("procedure", ""),
        performed_at=performed_at,
        timezone=v.get("timezone") or c.settings.clinic_timezone,
        phone=v.get("phone") or None,
        email=v.get("email") or None,
        language=v.get("language") or "en",
        levels=levels,
        overnight=bool(v.get("overnight")),
        external_id=v.get("external_id") or None,
        consents=tuple(consents),
        enrolled_by=user.username,
        caregiver=caregiver_command(v),
    )
    return cmd, errors


def caregiver_command(v: dict[str, str]) -> AddCaregiver | None:
    """The form's optional caregiver fieldset; left empty, there is no caregiver."""
    typed = [v.get(f"caregiver_{f}", "").strip() for f in ("name", "phone", "email")]
    if not any(typed):
        return None
    return AddCaregiver(
        name=v.get("caregiver_name", ""),
        relationship=v.get("caregiver_relationship", ""),
        phone=v.get("caregiver_phone") or None,
        email=v.get("caregiver_email") or None,
        language=v.get("caregiver_language") or None,
        sms_consent=bool(v.get("caregiver_sms_consent")),
        email_consent=bool(v.get("caregiver_email_consent")),
    )


def caregiver_form_values(e: Enrollment) -> dict[str, str]:
    """The caregiver form as saved (empty when there is none)."""
    cg = e.caregiver
    if cg is None:
        return {}
    return {
        "caregiver_name": cg.name,
        "caregiver_relationship": cg.relationship,
        "caregiver_phone": cg.phone or "",
        "caregiver_email": cg.email or "",
        "caregiver_language": cg.language,
        "caregiver_sms_consent": "on" if cg.sms_consent else "",
        "caregiver_email_consent": "on" if cg.email_consent else "",
    }
