"""Staff pages for patients: the list and one patient's journey (its actions: patient_actions.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from reminders.adapters.db.enrollments.care_repository import PatientPage
from reminders.adapters.db.enrollments.patient_search import RECOVERY_DAYS, SORTS, PatientQuery
from reminders.bootstrap import Container
from reminders.domain.errors import ReminderError
from reminders.domain.planning.timing import zone_named
from reminders.domain.staff.accounts import StaffUser
from reminders.domain.staff.limits import SEARCH_MAX
from reminders.entrypoints.web.deps import ContainerDep, Id, StaffDep
from reminders.entrypoints.web.staff.audit import ReadAuditDep, search_read
from reminders.entrypoints.web.staff.enroll import caregiver_form_values
from reminders.entrypoints.web.staff.forms import page_number
from reminders.entrypoints.web.staff.pages import render
from reminders.services import audit
from reminders.services.enrollments import hl7_intake
from reminders.services.enrollments.enrollment import get_enrollment
from reminders.services.replies import inbox
from reminders.services.staff import pain_trend, worklist
from reminders.services.staff.timeline import RESENDABLE_TONES, patient_journey
from reminders.services.writeback import chart

router = APIRouter(prefix="/staff", include_in_schema=False)


@router.get("")
@router.get("/")
def home() -> Response:
    return RedirectResponse("/staff/patients", status_code=303)


@router.get("/patients", response_class=HTMLResponse)
def patients(
    request: Request,
    c: ContainerDep,
    user: StaffDep,
    reads: ReadAuditDep,
    q: str = "",
    status: str = "",
    procedure: str = "",
    recovery: str = "",
    red_flag: bool = False,
    opted_out: bool = False,
    failed: bool = False,
    sort: str = "newest",
    page: str = "1",
) -> Response:
    if len(q) > SEARCH_MAX:  # said beside the field; nothing searched, nothing shown
        return _search_too_long(request, c, user, q)
    query = PatientQuery(
        text=q,
        status=status if status in ("active", "cancelled") else "",
        procedure=procedure if procedure in c.plans.names() else "",
        recovery=recovery if recovery in RECOVERY_DAYS else "",
        red_flag=red_flag,
        opted_out=opted_out,
        failed=failed,
        sort=sort if sort in SORTS else "newest",
        page=page_number(page),
    )
    found = worklist.find_patients(uow=c.uow(), query=query, now=c.clock())
    reads(actor=user.username, what=search_read(q, [r.id for r in found.rows]))
    # The same filters on the pager's links, so paging keeps what the nurse chose.
    kept = {k: v for k, v in request.query_params.items() if k != "page" and v}
    context = {"found": found, "rows": found.rows, "query": query, "q": q, "kept": kept}
    context["procedures"] = c.plans.names()
    context["consent_waiting"] = hl7_intake.consent_needed_count(c.uow)
    return render(request, "patients.html", context, user=user)


def _search_too_long(request: Request, c: Container, user: StaffUser, q: str) -> Response:
    error = f"the search is {len(q):,} characters long; at most {SEARCH_MAX} are searched"
    empty, cut = PatientPage(rows=[], total=0, page=1, per_page=1), q[:SEARCH_MAX]
    context = {"found": empty, "rows": [], "query": PatientQuery(), "q": cut, "kept": {"q": cut}}
    context |= {"procedures": c.plans.names(), "errors": {"q": error}}
    return render(request, "patients.html", context, status_code=422, user=user)


@router.get("/patients/{enrollment_id}", response_class=HTMLResponse)
def patient(
    request: Request,
    enrollment_id: Id,
    c: ContainerDep,
    user: StaffDep,
    reads: ReadAuditDep,
    history: bool = False,
) -> Response:
    try:
        e = get_enrollment(enrollment_id, uow=c.uow())
    except ReminderError as exc:
        return render(request, "error.html", {"message": exc.message}, status_code=404, user=user)
    reads(actor=user.username, what="patient page", enrollment_id=e.id)
    return patient_page(request, c, user, e.id or 0, {}, history=history)


def patient_page(
    request: Request,
    c: Container,
    user: StaffUser,
    enrollment_id: Id,
    errors: dict[str, str],
    *,
    history: bool = False,
    status_code: int = 200,
    confirm_resend: int | None = None,
    resend_for: int | None = None,
    caregiver_values: dict[str, str] | None = None,
    confirm_remove_caregiver: bool = False,
) -> Response:
    e = get_enrollment(enrollment_id, uow=c.uow())
    zone = zone_named(e.patient.timezone)
    plan = c.plans.get(e.procedure.procedure)
    channels = {ch.channel.value for ch in e.consents if ch.given}
    journey = patient_journey(
        e,
        uow=c.uow(),
        plan=plan,
        renderer=c.renderer,
        clinic=c.clinic,
        now=c.clock(),
        show_superseded=history,
        staff_language=c.settings.staff_language,
    )
    return render(
        request,
        "patient.html",
        {
            "e": e,
            "j": journey,
            "days": journey.days,
            "history": history,
            "zone": zone.key,
            "plan": plan,
            "staff_language": c.settings.staff_language,
            "channels": channels,
            "resendable": RESENDABLE_TONES,
            "performed_local": e.procedure.performed_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
            "audit": audit.recent_entries(uow=c.uow(), enrollment_id=e.id, limit=50),
            "replies": inbox.replies_for_enrollment(uow=c.uow(), enrollment_id=enrollment_id),
            "errors": errors,
            "confirm_resend": confirm_resend,
            "resend_for": resend_for or confirm_resend,  # the message its answer is shown by
            "confirm_remove_caregiver": confirm_remove_caregiver,
            "pain": pain_trend.for_enrollment(e, uow=c.uow(), now=c.clock()),
            "caregiver_values": caregiver_values or caregiver_form_values(e),
            "languages": plan.languages,
            "writeback_failing": chart.failing(c.uow(), enrollment_id),
        },
        status_code=status_code,
        user=user,
    )
