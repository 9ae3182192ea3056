"""EHR intake: a FHIR R4 Procedure (with its Patient contained) becomes an enrollment request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.procedure import Procedure
from pydantic import ValidationError

from reminders.adapters.care_plans import CarePlanLibrary
from reminders.domain.enrollment.commands import EnrollPatient, GiveConsent
from reminders.domain.model import Channel, ConsentMethod

LOCAL = "urn:recovery-reminders:procedure"  # code = a care-plan key, e.g. "kyphoplasty"
# Where in the resource each enrollment field comes from, to point an OperationOutcome at it.
EXPRESSIONS = {
    "phone": "Procedure.subject.resolve().telecom",
    "email": "Procedure.subject.resolve().telecom",
    "first_name": "Procedure.subject.resolve().name",
    "last_name": "Procedure.subject.resolve().name",
    "language": "Procedure.subject.resolve().communication",
    "procedure": "Procedure.code",
    "performed_at": "Procedure.performedDateTime",
    "levels": "Procedure.bodySite",
    "consent": "Procedure.subject.resolve().telecom",
    "external_id": "Procedure.identifier",
}


@dataclass(frozen=True)
class Issue:
    code: str  # a FHIR issue-type: invalid, required, code-invalid, not-supported, ...
    message: str
    expression: str | None = None


class FhirProblem(Exception):
    """The resource cannot be enrolled; each issue becomes one OperationOutcome issue."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(i.message for i in issues))
        self.issues = issues


def procedure_command(
    body: Any,
    *,
    plans: CarePlanLibrary,
    default_timezone: str,
    enrolled_by: str,
) -> EnrollPatient:
    """Validate a Procedure resource and map it to EnrollPatient, or raise FhirProblem."""
    if not isinstance(body, dict) or body.get("resourceType") != "Procedure":
        raise FhirProblem([Issue("invalid", "the body must be a FHIR Procedure resource")])
    try:
        procedure = Procedure.model_validate(body)
    except ValidationError as exc:
        raise FhirProblem(
            [
                Issue(
                    "structure",
                    _structure_message(e),
                    "Procedure." + ".".join(str(p) for p in e["loc"]) if e["loc"] else None,
                )
                for e in exc.errors()[:20]
            ]
        ) from None
    issues: list[Issue] = []
    if procedure.status != "completed":
        issues.append(
            Issue(
                "business-rule",
                f"status is {procedure.status!r}; only a completed procedure is enrolled",
                "Procedure.status",
            )
        )
    performed, where = _performed(procedure)
    if performed is None:
        issues.append(
            Issue(
                "required",
                "performedDateTime (or performedPeriod with an end) is needed",
                "Procedure.performedDateTime",
            )
        )
    elif not isinstance(performed, datetime):
        issues.append(
            Issue("value", f"{where} needs the time of day too, not only the date", where)
        )
    plan_key = _plan_key(procedure, plans, issues)
    patient = _patient(procedure, issues)
    if issues or patient is None or plan_key is None:
        raise FhirProblem(issues)
    phone = _telecom(patient, ("sms", "phone"), prefer_use="mobile")
    email = _telecom(patient, ("email",))
    if not phone:
        raise FhirProblem(
            [
                Issue(
                    "required",
                    "the Patient has no phone number (telecom with system phone or sms)",
                    EXPRESSIONS["phone"],
                )
            ]
        )
    name = patient.name[0] if patient.name else None
    given = " ".join(g for g in name.given or [] if g) if name else ""
    # The EHR sends a procedure only for a patient who agreed to reminders on the clinic's
    # intake form, so consent is recorded as written, by the token that sent it.
    consents = [GiveConsent(Channel.SMS, ConsentMethod.WRITTEN)]
    if email:
        consents.append(GiveConsent(Channel.EMAIL, ConsentMethod.WRITTEN))
    assert isinstance(performed, datetime)
    return EnrollPatient(
        first_name=given,
        last_name=(name.family or "") if name else "",
        procedure=plan_key,
        performed_at=performed,
        timezone=default_timezone,
        phone=phone,
        email=email,
        language=_language(patient) or "en",
        levels=max(1, len(procedure.bodySite or [])),
        external_id=_external_id(procedure),
        consents=tuple(consents),
        enrolled_by=enrolled_by,
    )


def _performed(procedure: Procedure) -> tuple[Any, str]:
    """When the procedure was done: performedDateTime, else the end (or start) of
    performedPeriod, as EHRs send either; and where in the resource that came from."""
    if procedure.performedDateTime is not None:
        return procedure.performedDateTime, "Procedure.performedDateTime"
    period = procedure.performedPeriod
    if period is not None and period.end is not None:
        return period.end, "Procedure.performedPeriod.end"
    if period is not None and period.start is not None:
        return period.start, "Procedure.performedPeriod.start"
    return None, "Procedure.performedDateTime"


def _structure_message(error: Any) -> str:
    """Pydantic's words, except for a dateTime, where they would not help an EHR analyst."""
    loc = [str(p) for p in error.get("loc", ())]
    if loc and loc[0].startswith("performed") and "regex" in str(error.get("msg", "")):
        return (
            f"{'.'.join(loc)} is not a FHIR dateTime: a time of day needs its offset,"
            " e.g. 2026-11-25T14:30:00-08:00"
        )
    return str(error["msg"])


WITHDRAWN = ("entered-in-error", "not-done")  # the procedure did not happen as enrolled


def withdrawn_procedure(body: Any) -> tuple[tuple[str, ...], str] | None:
    """(every name of, status) a Procedure the EHR withdrew; None for any other body."""
    if not isinstance(body, dict) or body.get("resourceType") != "Procedure":
        return None
    if body.get("status") not in WITHDRAWN:
        return None
    try:
        procedure = Procedure.model_validate(body)
    except ValidationError:
        return None  # procedure_command says what is wrong with it
    refs = _refs(procedure)
    if not refs:
        raise FhirProblem(
            [
                Issue(
                    "required",
                    f"a {procedure.status} Procedure needs the identifier (or id) it was"
                    " enrolled with, to find its messages",
                    "Procedure.identifier",
                )
            ]
        )
    return refs, str(procedure.status)


def procedure_refs(body: Any) -> tuple[str, ...]:
    """Every name an EHR may later use for this Procedure: its identifiers and its id."""
    try:
        return _refs(Procedure.model_validate(body))
    except ValidationError:
        return ()


def _refs(procedure: Procedure) -> tuple[str, ...]:
    refs = [f"fhir:{i.system or ''}|{i.value}" for i in procedure.identifier or [] if i.value]
    if procedure.id:
        refs.append(f"fhir:Procedure/{procedure.id}")
    return tuple(refs)


def _plan_key(procedure: Procedure, plans: CarePlanLibrary, issues: list[Issue]) -> str | None:
    codings = procedure.code.coding if procedure.code and procedure.code.coding else []
    known = set(plans.names())
    for c in codings:
        key = plans.by_code(c.system or "", c.code or "")
        if key is None and c.system == LOCAL:
            key = c.code
        if key in known:
            return key
    shown = ", ".join(f"{c.system or '?'}|{c.code}" for c in codings) or "none"
    issues.append(
        Issue(
            "code-invalid",
            f"no care plan for the procedure code ({shown}); known: "
            f"{', '.join(plans.known_codes()) or 'none'}, or "
            f"{LOCAL} with one of {', '.join(sorted(known))}",
            "Procedure.code",
        )
    )
    return None


def _patient(procedure: Procedure, issues: list[Issue]) -> FhirPatient | None:
    ref = (procedure.subject.reference or "") if procedure.subject else ""
    wanted = ref[1:] if ref.startswith("#") else ref.removeprefix("Patient/")
    for resource in procedure.contained or []:
        if isinstance(resource, FhirPatient) and wanted and resource.id == wanted:
            return resource
    issues.append(
        Issue(
            "not-found",
            f"the subject {ref or '(none)'} is not a Patient contained in the Procedure;"
            ' include it in "contained" and refer to it as "#id"',
            "Procedure.subject",
        )
    )
    return None


def _telecom(patient: FhirPatient, systems: tuple[str, ...], prefer_use: str = "") -> str | None:
    points = [t for t in patient.telecom or [] if t.system in systems and t.value]
    points.sort(key=lambda t: (t.use != prefer_use, systems.index(t.system or "")))
    return points[0].value if points else None


def _language(patient: FhirPatient) -> str | None:
    comms = sorted(patient.communication or [], key=lambda c: not c.preferred)
    for comm in comms:
        for coding in comm.language.coding or []:
            if coding.code:
                return coding.code.split("-")[0].lower()
    return None


def _external_id(procedure: Procedure) -> str | None:
    for ident in procedure.identifier or []:
        if ident.value:
            return f"fhir:{ident.system or ''}|{ident.value}"
    return f"fhir:Procedure/{procedure.id}" if procedure.id else None
