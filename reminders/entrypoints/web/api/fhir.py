"""EHR intake: POST /fhir/Procedure enrolls a completed procedure, POST /fhir/Encounter pauses;
problems come back as a FHIR OperationOutcome."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from reminders.domain.errors import EnrollmentClosed, InvalidEnrollment, ReminderError
from reminders.entrypoints.web.deps import ContainerDep, FhirCaller
from reminders.services.enrollments import clinical_events, enrollment
from reminders.services.enrollments.fhir_encounters import encounter_event
from reminders.services.enrollments.fhir_intake import (
    EXPRESSIONS,
    FhirProblem,
    Issue,
    procedure_command,
    procedure_refs,
    withdrawn_procedure,
)
from reminders.services.writeback import chart

FHIR_JSON = "application/fhir+json"
router = APIRouter(prefix="/fhir", tags=["fhir"])

OUTCOME_SCHEMA = {
    "type": "object",
    "properties": {"resourceType": {"const": "OperationOutcome"}, "issue": {"type": "array"}},
}


def outcome(
    issues: list[Issue], *, severity: str, status_code: int, **headers: str
) -> JSONResponse:
    body: dict[str, Any] = {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": severity,
                "code": i.code,
                "diagnostics": i.message,
                **({"expression": [i.expression]} if i.expression else {}),
            }
            for i in issues
        ],
    }
    return JSONResponse(body, status_code=status_code, media_type=FHIR_JSON, headers=headers)


def _resource_body(resource_type: str) -> dict[str, object]:
    """The request body in the API document: a FHIR resource of this type, read from the raw
    body as FHIR's media type or plain JSON."""
    schema = {
        "type": "object",
        "required": ["resourceType"],
        "properties": {"resourceType": {"type": "string", "enum": [resource_type]}},
    }
    return {
        "required": True,
        "content": {FHIR_JSON: {"schema": schema}, "application/json": {"schema": schema}},
    }


async def _json_body(request: Request, resource: str) -> Any:
    """The request's JSON body, or the OperationOutcome refusing it (415 or 400)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in (FHIR_JSON, "application/json"):
        # A form or text/plain body is what a cross-site page can send without asking.
        return outcome(
            [Issue("not-supported", f"send the {resource} as {FHIR_JSON}")],
            severity="error",
            status_code=415,
        )
    try:
        return json.loads(await request.body())
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deep
        return outcome(
            [Issue("invalid", "the body is not JSON")], severity="error", status_code=400
        )


@router.post(
    "/Procedure",
    status_code=201,
    openapi_extra={"requestBody": _resource_body("Procedure")},
    responses={
        200: {"description": "Already enrolled (same Procedure identifier); unchanged."},
        201: {"content": {FHIR_JSON: {"schema": OUTCOME_SCHEMA}}},
        400: {"description": "The body is not JSON."},
        401: {"description": "No valid API token."},
        403: {"description": "The token lacks the `fhir` scope."},
        415: {"description": "The body is not sent as application/fhir+json or application/json."},
        422: {"description": "An OperationOutcome saying what is wrong and where."},
    },
)
async def create_procedure(request: Request, c: ContainerDep, caller: FhirCaller) -> JSONResponse:
    """Enroll from a FHIR R4 Procedure: status completed, performedDateTime, a CPT code
    the care plans cover, and the subject Patient contained with a phone in telecom."""
    body = await _json_body(request, "Procedure")
    if isinstance(body, JSONResponse):
        return body
    try:
        withdrawn = withdrawn_procedure(body)
    except FhirProblem as problem:
        return outcome(problem.issues, severity="error", status_code=422)
    if withdrawn is not None:
        return _withdraw(c, caller, *withdrawn)
    try:
        cmd = procedure_command(
            body, plans=c.plans, default_timezone=c.settings.clinic_timezone, enrolled_by=caller
        )
        result = enrollment.enroll(
            cmd,
            uow=c.uow(),
            planning=c.planning,
            now=c.clock(),
            via="FHIR",
        )
    except FhirProblem as problem:
        return outcome(problem.issues, severity="error", status_code=422)
    except InvalidEnrollment as exc:
        issues = [
            Issue("invalid", f"{field}: {message}", EXPRESSIONS.get(field))
            for field, message in exc.errors.items()
        ]
        return outcome(issues, severity="error", status_code=422)
    except ReminderError as exc:
        issue = Issue("invalid", exc.message, EXPRESSIONS.get(exc.field or ""))
        return outcome([issue], severity="error", status_code=422)
    enrollment_id = result.enrollment.id
    assert enrollment_id is not None
    clinical_events.remember_refs(c.uow(), enrollment_id, procedure_refs(body))
    text = (
        f"enrolled as enrollment {enrollment_id}"
        if result.created
        else f"already enrolled as enrollment {enrollment_id}; nothing changed"
    )
    return outcome(
        [Issue("informational", text)],
        severity="information",
        status_code=201 if result.created else 200,
        Location=f"/api/v1/enrollments/{enrollment_id}",
    )


def _withdraw(c: Any, caller: str, refs: tuple[str, ...], status: str) -> JSONResponse:
    """An enrolled Procedure marked entered-in-error or not-done: cancel its messages, once."""
    with c.uow() as uow:
        enrollment_id = clinical_events.enrollment_for_refs(uow, refs)
        current = uow.enrollments.get(enrollment_id) if enrollment_id is not None else None
    if enrollment_id is None or current is None:
        issue = Issue(
            "not-found", "no enrollment has this Procedure identifier", "Procedure.identifier"
        )
        return outcome([issue], severity="error", status_code=404)
    if current.status == "cancelled":
        text = f"enrollment {enrollment_id} was already cancelled; nothing changed"
        return outcome([Issue("informational", text)], severity="information", status_code=200)
    result = enrollment.cancel(
        enrollment_id,
        uow=c.uow(),
        by=caller,
        reason=f"the EHR marked the procedure {status}",
        now=c.clock(),
    )
    text = f"enrollment {result.id} cancelled: the procedure is {status}"
    return outcome([Issue("informational", text)], severity="information", status_code=200)


@router.post(
    "/Encounter",
    status_code=200,
    openapi_extra={"requestBody": _resource_body("Encounter")},
    responses={
        200: {"content": {FHIR_JSON: {"schema": OUTCOME_SCHEMA}}},
        400: {"description": "The body is not JSON."},
        401: {"description": "No valid token."},
        404: {"description": "No enrolled patient matches the Encounter."},
        415: {"description": "The body is not sent as application/fhir+json or application/json."},
        422: {"description": "An OperationOutcome saying what is wrong and where."},
    },
)
async def create_encounter(request: Request, c: ContainerDep, caller: FhirCaller) -> JSONResponse:
    """An emergency visit or admission (class EMER or IMP) of an enrolled patient pauses
    the patient's remaining messages and opens a staff task; other Encounters change nothing.
    The patient is matched by a reasonReference to the enrolled Procedure, else by the phone
    of a contained Patient."""
    body = await _json_body(request, "Encounter")
    if isinstance(body, JSONResponse):
        return body
    try:
        event = encounter_event(body)
    except FhirProblem as problem:
        return outcome(problem.issues, severity="error", status_code=422)
    if not event.pauses:
        text = (
            f"{event.what} ({event.status or 'no status'}) does not pause messages; nothing changed"
        )
        return outcome([Issue("informational", text)], severity="information", status_code=200)
    enrollment_id = clinical_events.find_enrollment(
        c.uow(), event, default_region=c.settings.default_region
    )
    if enrollment_id is None:
        issue = Issue(
            "not-found", "no enrolled patient matches this Encounter", "Encounter.subject"
        )
        return outcome([issue], severity="error", status_code=404)
    try:
        paused = clinical_events.pause(
            c.uow(),
            enrollment_id=enrollment_id,
            by=caller,
            why=f"the EHR reported {event.what}",
            now=c.clock(),
        )
    except EnrollmentClosed as exc:
        return outcome([Issue("business-rule", exc.message)], severity="error", status_code=422)
    text = (
        f"enrollment {enrollment_id} was already paused; nothing changed"
        if paused.already
        else f"enrollment {enrollment_id} paused: {paused.held} message(s) held; staff task opened"
    )
    return outcome([Issue("informational", text)], severity="information", status_code=200)


PATIENT_NUMBER = re.compile(r"[0-9]{1,9}")  # ASCII digits only, within a database integer
BUNDLE_SCHEMA = {
    "type": "object",
    "properties": {"resourceType": {"const": "Bundle"}, "entry": {"type": "array"}},
}
SEARCH_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {FHIR_JSON: {"schema": BUNDLE_SCHEMA}}},
    400: {"content": {FHIR_JSON: {"schema": OUTCOME_SCHEMA}}, "description": "No patient."},
    401: {"description": "No valid API token."},
    403: {"description": "The token lacks the `fhir` scope."},
}


@router.get(
    "/metadata",
    responses={
        200: {
            "content": {
                FHIR_JSON: {
                    "schema": {
                        "type": "object",
                        "properties": {"resourceType": {"const": "CapabilityStatement"}},
                    }
                }
            }
        }
    },
)
def metadata(c: ContainerDep) -> JSONResponse:
    """The CapabilityStatement: exactly the resources and interactions supported here."""
    statement = chart.capability_statement(base_url=c.settings.public_url, now=c.clock())
    return JSONResponse(statement, media_type=FHIR_JSON)


def _search(resource_type: str, c: Any, caller: str, patient: str | None) -> JSONResponse:
    wanted = (patient or "").removeprefix("Patient/")
    if not PATIENT_NUMBER.fullmatch(wanted):
        issue = Issue(
            "required", "search by patient: ?patient=Patient/<id> (or the number alone)", "patient"
        )
        return outcome([issue], severity="error", status_code=400)
    bundle = chart.search(c.uow(), resource_type, patient_id=int(wanted), by=caller, now=c.clock())
    return JSONResponse(bundle, media_type=FHIR_JSON)


@router.get("/Communication", responses=SEARCH_RESPONSES)
def search_communications(
    c: ContainerDep, caller: FhirCaller, patient: str | None = None
) -> JSONResponse:
    """The messages sent to the patient (or the caregiver), as the chart receives them."""
    return _search("Communication", c, caller, patient)


@router.get("/QuestionnaireResponse", responses=SEARCH_RESPONSES)
def search_answers(c: ContainerDep, caller: FhirCaller, patient: str | None = None) -> JSONResponse:
    """The patient's check-in answers (pain as LOINC 72514-3)."""
    return _search("QuestionnaireResponse", c, caller, patient)


@router.get("/Flag", responses=SEARCH_RESPONSES)
def search_flags(c: ContainerDep, caller: FhirCaller, patient: str | None = None) -> JSONResponse:
    """Red flags raised by the patient's answers or words."""
    return _search("Flag", c, caller, patient)


@router.get("/Task", responses=SEARCH_RESPONSES)
def search_tasks(c: ContainerDep, caller: FhirCaller, patient: str | None = None) -> JSONResponse:
    """Red flags a nurse acknowledged, as completed Tasks."""
    return _search("Task", c, caller, patient)
