"""Staff pages under /staff: patients, enrollment form, timeline and actions, imports, audit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from reminders.bootstrap import Container
from reminders.domain.accounts import Role, StaffUser
from reminders.domain.commands import EnrollPatient, GiveConsent
from reminders.domain.errors import ReminderError
from reminders.domain.model import Channel, ConsentMethod
from reminders.domain.timing import zone_named
from reminders.entrypoints.web.deps import AdminDep, ContainerDep, FormDep, Id, StaffDep
from reminders.entrypoints.web.pages import flash, render
from reminders.services import accounts, audit, care, intake, replies
from reminders.services.enrollment import get_enrollment
from reminders.services.timeline import RESENDABLE_TONES, patient_timeline

router = APIRouter(prefix="/staff", include_in_schema=False)
MAX_UPLOAD = 5 * 1024 * 1024
TIMEZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Puerto_Rico",
)


@router.get("")
@router.get("/")
def home() -> Response:
    return RedirectResponse("/staff/patients", status_code=303)


@router.get("/patients", response_class=HTMLResponse)
def patients(request: Request, c: ContainerDep, user: StaffDep, q: str = "") -> Response:
    with c.uow() as uow:
        found = uow.care.search(q[:100])
    return render(request, "patients.html", {"rows": found, "q": q}, user=user)


# ---- enrolling ---------------------------------------------------------------------------


def _enroll_context(c: Container, values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    languages = sorted({lang for name in c.plans.names() for lang in c.plans.get(name).languages})
    return {
        "values": values,
        "errors": errors,
        "procedures": c.plans.names(),
        "languages": languages,
        "timezones": TIMEZONES,
    }


@router.get("/enroll", response_class=HTMLResponse)
def enroll_form(request: Request, c: ContainerDep, user: StaffDep) -> Response:
    now_local = c.clock().astimezone(zone_named(c.settings.clinic_timezone))
    values = {
        "timezone": c.settings.clinic_timezone,
        "language": "en",
        "levels": "1",
        "procedure": (c.plans.names() or [""])[0],
        "performed_at": now_local.strftime("%Y-%m-%dT%H:%M"),
        "consent_sms_method": "verbal",
        "consent_email_method": "verbal",
    }
    return render(request, "enroll.html", _enroll_context(c, values, {}), user=user)


@router.post("/enroll", response_class=HTMLResponse)
def enroll(request: Request, c: ContainerDep, user: StaffDep, form: FormDep) -> Response:
    values = {k: v.strip() for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    cmd, unreadable = _enroll_command(values, c, user)
    errors = {
        **care.field_errors(
            cmd, plans=c.plans, now=c.clock(), skew=c.skew, default_region=c.settings.default_region
        ),
        **unreadable,
    }
    if not errors:
        try:
            result = care.enroll(
                cmd,
                uow=c.uow(),
                plans=c.plans,
                policy=c.policy,
                now=c.clock(),
                via="staff page",
                skew=c.skew,
                default_region=c.settings.default_region,
            )
        except ReminderError as exc:
            errors[exc.field or "form"] = exc.message
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
            return RedirectResponse(f"/staff/patients/{e.id}", status_code=303)
    return render(
        request, "enroll.html", _enroll_context(c, values, errors), status_code=422, user=user
    )


def _enroll_command(
    v: dict[str, str], c: Container, user: StaffUser
) -> tuple[EnrollPatient, dict[str, str]]:
    """The request as typed, and the fields that could not even be read (with stand-ins)."""
    errors: dict[str, str] = {}
    performed_at = _parse_local(v.get("performed_at", ""), errors) or c.clock()
    levels = 1
    try:
        levels = int(v.get("levels") or "1")
    except ValueError:
        errors["levels"] = "levels treated must be a whole number from 1 to 10"
    consents = []
    for channel in Channel:
        if v.get(f"consent_{channel.value}"):
            method = _method(v.get(f"consent_{channel.value}_method", ""), errors)
            more = channel is Channel.SMS and bool(v.get("more_sms"))
            consents.append(GiveConsent(channel, method, more_frequent_sms=more))
    if any("\x00" in text for text in v.values()):
        errors["form"] = "the form contains characters that are not allowed"
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
    )
    return cmd, errors


def _parse_local(text: str, errors: dict[str, str]) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        errors["performed_at"] = "enter the date and time the procedure ended"
        return None


def _method(text: str, errors: dict[str, str]) -> ConsentMethod:
    try:
        return ConsentMethod(text or "verbal")
    except ValueError:
        errors["consent"] = "consent is given verbally or in writing"
        return ConsentMethod.VERBAL


# ---- one patient ---------------------------------------------------------------------------


@router.get("/patients/{enrollment_id}", response_class=HTMLResponse)
def patient(
    request: Request,
    enrollment_id: Id,
    c: ContainerDep,
    user: StaffDep,
    history: bool = False,
) -> Response:
    try:
        e = get_enrollment(enrollment_id, uow=c.uow())
    except ReminderError as exc:
        return render(request, "error.html", {"message": exc.message}, status_code=404, user=user)
    return _patient_page(request, c, user, e.id or 0, {}, history=history)


def _patient_page(
    request: Request,
    c: Container,
    user: StaffUser,
    enrollment_id: Id,
    errors: dict[str, str],
    *,
    history: bool = False,
    status_code: int = 200,
) -> Response:
    e = get_enrollment(enrollment_id, uow=c.uow())
    zone = zone_named(e.patient.timezone)
    plan = c.plans.get(e.procedure.procedure)
    channels = {ch.channel.value for ch in e.consents if ch.given}
    return render(
        request,
        "patient.html",
        {
            "e": e,
            "days": patient_timeline(e, show_superseded=history),
            "history": history,
            "zone": zone.key,
            "plan": plan,
            "channels": channels,
            "resendable": RESENDABLE_TONES,
            "performed_local": e.procedure.performed_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
            "audit": audit.recent_entries(uow=c.uow(), enrollment_id=e.id, limit=50),
            "replies": replies.replies_for_enrollment(uow=c.uow(), enrollment_id=enrollment_id),
            "errors": errors,
        },
        status_code=status_code,
        user=user,
    )


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
        return _patient_page(
            request, c, user, enrollment_id, {exc.field or "form": exc.message}, status_code=422
        )
    flash(request, done)
    return RedirectResponse(f"/staff/patients/{enrollment_id}", status_code=303)


@router.post("/patients/{enrollment_id}/cancel")
def cancel(
    request: Request, enrollment_id: Id, c: ContainerDep, user: StaffDep, form: FormDep
) -> Response:
    reason = str(form.get("reason") or "").strip()[:500]
    if not reason:
        # A written reason makes stopping a patient's messages a deliberate act, never a mis-tap.
        errors = {"reason": "Write why the messages should stop; it goes in the record."}
        return _patient_page(request, c, user, enrollment_id, errors, status_code=422)
    return _act(
        request,
        c,
        user,
        enrollment_id,
        lambda: care.cancel(
            enrollment_id, uow=c.uow(), by=user.username, reason=reason, now=c.clock()
        ),
        "Enrollment cancelled: no more messages will go out.",
    )


@router.post("/patients/{enrollment_id}/restart")
def restart(
    request: Request, enrollment_id: Id, c: ContainerDep, user: StaffDep, form: FormDep
) -> Response:
    return _act(
        request,
        c,
        user,
        enrollment_id,
        lambda: care.restart(
            enrollment_id,
            uow=c.uow(),
            plans=c.plans,
            policy=c.policy,
            by=user.username,
            now=c.clock(),
        ),
        "Messages restarted: upcoming ones will go out; past ones will not.",
    )


@router.post("/patients/{enrollment_id}/reschedule")
def reschedule(
    request: Request, enrollment_id: Id, c: ContainerDep, user: StaffDep, form: FormDep
) -> Response:
    errors: dict[str, str] = {}
    when = _parse_local(str(form.get("performed_at") or ""), errors)
    if when is None:
        return _patient_page(request, c, user, enrollment_id, errors, status_code=422)
    return _act(
        request,
        c,
        user,
        enrollment_id,
        lambda: care.update_enrollment(
            enrollment_id,
            uow=c.uow(),
            plans=c.plans,
            policy=c.policy,
            by=user.username,
            now=c.clock(),
            performed_at=when,
            skew=c.skew,
        ),
        "Procedure time corrected; the messages not yet sent were planned again.",
    )


@router.post("/patients/{enrollment_id}/preferences")
def preferences(
    request: Request, enrollment_id: Id, c: ContainerDep, user: StaffDep, form: FormDep
) -> Response:
    errors: dict[str, str] = {}
    channels = [
        GiveConsent(ch, _method(str(form.get(f"consent_{ch.value}_method") or ""), errors))
        for ch in Channel
        if form.get(f"consent_{ch.value}")
    ]
    if errors:
        return _patient_page(request, c, user, enrollment_id, errors, status_code=422)
    return _act(
        request,
        c,
        user,
        enrollment_id,
        lambda: care.update_enrollment(
            enrollment_id,
            uow=c.uow(),
            plans=c.plans,
            policy=c.policy,
            by=user.username,
            now=c.clock(),
            channels=channels,
            language=str(form.get("language") or "") or None,
        ),
        "Saved; the messages not yet sent follow the new channels and language.",
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
    return _act(
        request,
        c,
        user,
        enrollment_id,
        lambda: care.resend(
            enrollment_id,
            message_id,
            uow=c.uow(),
            plans=c.plans,
            delivery=c.delivery,
            by=user.username,
            now=c.clock(),
            confirm=form.get("confirm") == "yes",
        ),
        "The message will be sent again at the next allowed time.",
    )


# ---- CSV import ----------------------------------------------------------------------------


@router.get("/imports", response_class=HTMLResponse)
def imports(request: Request, c: ContainerDep, user: StaffDep) -> Response:
    return render(request, "imports.html", _imports_context(c, None), user=user)


def _imports_context(c: Container, error: str | None) -> dict[str, Any]:
    return {
        "runs": intake.recent_imports(uow=c.uow()),
        "columns": intake.REQUIRED + intake.OPTIONAL,
        "required": intake.REQUIRED,
        "errors": {"file": error} if error else {},
    }


@router.post("/imports", response_class=HTMLResponse)
async def upload(
    request: Request,
    c: ContainerDep,
    user: StaffDep,
    form: FormDep,
    background: BackgroundTasks,
) -> Response:
    upload = form.get("file")
    error = None
    rows: list[intake.CsvRow] = []
    if not isinstance(upload, UploadFile) or not upload.filename:
        error = "choose a CSV file to upload"
    else:
        data = await upload.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            error = "the file is larger than 5 MB; split it"
        else:
            try:
                rows = intake.read_csv(data)
            except ReminderError as exc:
                error = exc.message
    if error or not isinstance(upload, UploadFile):
        return render(
            request, "imports.html", _imports_context(c, error), status_code=422, user=user
        )
    run_id = intake.start_import(
        uow=c.uow(),
        filename=upload.filename or "upload.csv",
        rows=len(rows),
        by=user.username,
        now=c.clock(),
    )
    background.add_task(_run_import, c, run_id, rows, user.username)
    return RedirectResponse(f"/staff/imports/{run_id}", status_code=303)


def _run_import(c: Container, run_id: Id, rows: list[intake.CsvRow], by: str) -> None:
    intake.run_import(
        run_id,
        rows,
        uow=c.uow(),
        plans=c.plans,
        policy=c.policy,
        clock=c.clock,
        by=by,
        default_timezone=c.settings.clinic_timezone,
        skew=c.skew,
        default_region=c.settings.default_region,
    )


@router.get("/imports/{run_id}", response_class=HTMLResponse)
def import_run(request: Request, run_id: Id, c: ContainerDep, user: StaffDep) -> Response:
    try:
        run, rows = intake.import_report(uow=c.uow(), run_id=run_id)
    except ReminderError as exc:
        return render(request, "error.html", {"message": exc.message}, status_code=404, user=user)
    return render(request, "import_run.html", {"run": run, "rows": rows}, user=user)


# ---- admin: audit log and staff accounts ------------------------------------------------------


@router.get("/audit", response_class=HTMLResponse)
def audit_log(request: Request, c: ContainerDep, user: AdminDep, actor: str = "") -> Response:
    entries = audit.recent_entries(uow=c.uow(), actor=actor.strip()[:120] or None, limit=500)
    return render(request, "audit.html", {"entries": entries, "actor": actor}, user=user)


@router.get("/users", response_class=HTMLResponse)
def users(request: Request, c: ContainerDep, user: AdminDep) -> Response:
    return render(request, "users.html", _users_context(c, {}, {}), user=user)


def _users_context(c: Container, values: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    return {
        "users": accounts.list_users(uow=c.uow()),
        "tokens": accounts.list_tokens(uow=c.uow()),
        "values": values,
        "errors": errors,
        "roles": [r.value for r in Role],
    }


@router.post("/users", response_class=HTMLResponse)
def create_user(request: Request, c: ContainerDep, user: AdminDep, form: FormDep) -> Response:
    values = {k: str(v) for k, v in form.items() if k in ("username", "full_name", "role")}
    try:
        created = accounts.create_staff_user(
            uow=c.uow(),
            username=values.get("username", ""),
            full_name=values.get("full_name", ""),
            role=Role(values.get("role") or "staff"),
            password=str(form.get("password") or ""),
            by=user.username,
            now=c.clock(),
        )
    except (ReminderError, ValueError) as exc:
        field = getattr(exc, "field", None) or "role"
        message = getattr(exc, "message", "choose staff or admin")
        return render(
            request,
            "users.html",
            _users_context(c, values, {field: message}),
            status_code=422,
            user=user,
        )
    flash(request, f"Account {created.username} created.")
    return RedirectResponse("/staff/users", status_code=303)
