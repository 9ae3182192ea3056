"""EHR intake: POST /fhir/Procedure enrolls a completed procedure, POST /fhir/Encounter pauses;
problems come back as a FHIR OperationOutcome."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from reminders.domain.errors import EnrollmentClosed, InvalidEnrollment, ReminderError
from reminders.entrypoints.web import staff_session
from reminders.entrypoints.web.api.schemas import ErrorOut
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
    "description": "A FHIR R4 OperationOutcome: one issue per problem, or one informational.",
    "required": ["resourceType", "issue"],
    "properties": {
        "resourceType": {"const": "OperationOutcome"},
        "issue": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["severity", "code"],
                "properties": {
                    "severity": {"enum": ["error", "information"]},
                    "code": {"type": "string", "examples": ["invalid", "not-found"]},
                    "diagnostics": {"type": "string"},
                    "expression": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}
CODING = {
    "type": "object",
    "properties": {"system": {"type": "string"}, "code": {"type": "string"}},
}
REFERENCE = {
    "type": "object",
    "properties": {
        "reference": {"type": "string", "examples": ["#patient", "Procedure/123"]},
        "identifier": {"type": "object", "properties": {"value": {"type": "string"}}},
    },
}
PATIENT = {
    "type": "object",
    "description": "The contained Patient the subject points at; texts go to its mobile phone.",
    "required": ["resourceType", "id", "telecom"],
    "properties": {
        "resourceType": {"const": "Patient"},
        "id": {"type": "string", "examples": ["patient"]},
        "name": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "family": {"type": "string"},
                    "given": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
        "telecom": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "system": {"enum": ["phone", "sms", "email"]},
                    "value": {"type": "string"},
                    "use": {"type": "string", "examples": ["mobile"]},
                },
            },
        },
        "communication": {
            "type": "array",
            "items": {"type": "object", "properties": {"language": {"type": "object"}}},
        },
    },
}
# What the intake reads of each resource (services/enrollments/fhir_*.py); other FHIR
# elements are allowed and ignored.
RESOURCES: dict[str, dict[str, object]] = {
    "Procedure": {
        "required": ["resourceType", "status", "code", "subject"],
        "properties": {
            "resourceType": {"const": "Procedure"},
            "status": {
                "enum": ["completed", "entered-in-error", "not-done"],
                "description": "completed enrolls; entered-in-error or not-done cancels.",
            },
            "identifier": {
                "type": "array",
                "description": "The EHR's id: enrolling it again changes nothing.",
                "items": {
                    "type": "object",
                    "properties": {"system": {"type": "string"}, "value": {"type": "string"}},
                },
            },
            "code": {
                "type": "object",
                "description": "A CPT code a care plan covers.",
                "properties": {"coding": {"type": "array", "items": CODING}},
            },
            "performedDateTime": {"type": "string", "format": "date-time"},
            "performedPeriod": {
                "type": "object",
                "properties": {"end": {"type": "string", "format": "date-time"}},
            },
            "bodySite": {"type": "array", "description": "One entry per level treated."},
            "subject": REFERENCE,
            "contained": {"type": "array", "items": PATIENT},
        },
    },
    "Encounter": {
        "required": ["resourceType", "status", "class"],
        "properties": {
            "resourceType": {"const": "Encounter"},
            "status": {"type": "string", "examples": ["in-progress"]},
            "class": {
                **CODING,
                "description": "EMER (emergency) or IMP (admission) pauses the messages.",
            },
            "reasonReference": {
                "type": "array",
                "items": REFERENCE,
                "description": "The enrolled Procedure, by reference or identifier.",
            },
            "subject": REFERENCE,
            "contained": {"type": "array", "items": PATIENT},
        },
    },
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
    """The request body in the API document: the parts of this FHIR resource that are read,
    sent as FHIR's media type or plain JSON."""
    schema = {
        "type": "object",
        "description": f"A FHIR R4 {resource_type}.",
        **RESOURCES[resource_type],
    }
    return {
        "required": True,
        "content": {FHIR_JSON: {"schema": schema}, "application/json": {"schema": schema}},
    }


def _answer(description: str) -> dict[str, object]:
    return {"description": description, "content": {FHIR_JSON: {"schema": OUTCOME_SCHEMA}}}


# Refused before the route runs: the API's plain error body, not an OperationOutcome.
NO_TOKEN = {"model": ErrorOut, "description": "No valid API token."}
NO_SCOPE = {"model": ErrorOut, "description": "The token lacks the `fhir` scope."}
TOO_LARGE = {"model": ErrorOut, "description": "The body is larger than the server takes."}
NOT_JSON = _answer("The body is not JSON.")
MEDIA = _answer("The body is not sent as application/fhir+json or application/json.")
WRONG = _answer("An OperationOutcome saying what is wrong and where.")


# The FHIR models themselves break on some malformed resources (a `contained` entry whose
# resourceType is not a string) with these instead of a validation error.
UNREADABLE = (TypeError, KeyError)


def _unreadable(resource: str) -> JSONResponse:
    issue = Issue("structure", f"the body is not a FHIR R4 {resource} that can be read")
    return outcome([issue], severity="error", status_code=422)


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
    operation_id="fhirCreateProcedure",
    responses={
        200: {
            **_answer(
                "Already enrolled (same Procedure identifier), unchanged; or a withdrawn"
                " Procedure's messages cancelled."
            ),
            "headers": {"Location": {"schema": {"type": "string"}}},
        },
        201: {
            **_answer("Enrolled."),
            "headers": {
                "Location": {
                    "description": "The enrollment: /api/v1/enrollments/{id}.",
                    "schema": {"type": "string"},
                }
            },
        },
        400: NOT_JSON,
        401: NO_TOKEN,
        403: NO_SCOPE,
        404: _answer("A withdrawn Procedure whose identifier was never enrolled."),
        413: TOO_LARGE,
        415: MEDIA,
        422: WRONG,
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
    except UNREADABLE:
        return _unreadable("Procedure")
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
            client_addr=staff_session.client_addr(request),
        )
    except FhirProblem as problem:
        return outcome(problem.issues, severity="error", status_code=422)
    except UNREADABLE:
        return _unreadable("Procedure")
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
    operation_id="fhirCreateEncounter",
    responses={
        200: _answer("Paused, already paused, or an Encounter that changes nothing."),
        400: NOT_JSON,
        401: NO_TOKEN,
        403: NO_SCOPE,
        404: _answer("No enrolled patient matches the Encounter."),
        413: TOO_LARGE,
        415: MEDIA,
        422: WRONG,
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
    except UNREADABLE:
        return _unreadable("Encounter")
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
    operation_id="fhirCapabilityStatement",
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


@router.get("/Communication", operation_id="fhirSearchCommunication", responses=SEARCH_RESPONSES)
def search_communications(
    c: ContainerDep, caller: FhirCaller, patient: str | None = None
) -> JSONResponse:
    """The messages sent to the patient (or the caregiver), as the chart receives them."""
    return _search("Communication", c, caller, patient)


@router.get(
    "/QuestionnaireResponse",
    operation_id="fhirSearchQuestionnaireResponse",
    responses=SEARCH_RESPONSES,
)
def search_answers(c: ContainerDep, caller: FhirCaller, patient: str | None = None) -> JSONResponse:
    """The patient's check-in answers (pain as LOINC 72514-3)."""
    return _search("QuestionnaireResponse", c, caller, patient)


@router.get("/Flag", operation_id="fhirSearchFlag", responses=SEARCH_RESPONSES)
def search_flags(c: ContainerDep, caller: FhirCaller, patient: str | None = None) -> JSONResponse:
    """Red flags raised by the patient's answers or words."""
    return _search("Flag", c, caller, patient)


@router.get("/Task", operation_id="fhirSearchTask", responses=SEARCH_RESPONSES)
def search_tasks(c: ContainerDep, caller: FhirCaller, patient: str | None = None) -> JSONResponse:
    """Red flags a nurse acknowledged, as completed Tasks."""
    return _search("Task", c, caller, patient)
