"""EHR events: a FHIR R4 Encounter (emergency visit, admission) read into a clinical event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.patient import Patient as FhirPatient
from pydantic import ValidationError

from reminders.services.enrollments.fhir_intake import FhirProblem, Issue

# v3 ActCode classes that mean the patient is back in hospital: emergency, inpatient
# (and its acute / non-acute kinds), observation.
PAUSING_CLASSES = {"EMER": "an emergency visit", "IMP": "an admission", "ACUTE": "an admission",
                   "NONAC": "an admission", "OBSENC": "an observation stay"}  # fmt: skip
IGNORED_STATUSES = {"cancelled", "entered-in-error", "planned"}


@dataclass(frozen=True)
class ClinicalEvent:
    """What the Encounter says: which patient, and what happened."""

    what: str  # "an emergency visit", "an admission"
    procedure_ids: tuple[str, ...]  # enrollment external ids it names ("fhir:sys|value")
    phone: str | None  # the contained Patient's phone
    pauses: bool  # False: an Encounter of another class or status (nothing to do)
    status: str


def encounter_event(body: Any) -> ClinicalEvent:
    """Validate an Encounter and read it, or raise FhirProblem."""
    if not isinstance(body, dict) or body.get("resourceType") != "Encounter":
        raise FhirProblem([Issue("invalid", "the body must be a FHIR Encounter resource")])
    try:
        encounter = Encounter.model_validate(body)
    except ValidationError as exc:
        raise FhirProblem(
            [
                Issue(
                    "structure",
                    str(e["msg"]),
                    "Encounter." + ".".join(str(p) for p in e["loc"]) if e["loc"] else None,
                )
                for e in exc.errors()[:20]
            ]
        ) from None
    code = (encounter.class_fhir.code or "") if encounter.class_fhir else ""
    ids = []
    for ref in encounter.reasonReference or []:
        if ref.reference and ref.reference.startswith("Procedure/"):
            ids.append(f"fhir:{ref.reference}")
        if ref.identifier and ref.identifier.value:
            ids.append(f"fhir:{ref.identifier.system or ''}|{ref.identifier.value}")
    phone = None
    wanted = ((encounter.subject.reference or "") if encounter.subject else "").removeprefix("#")
    for resource in encounter.contained or []:
        if isinstance(resource, FhirPatient) and wanted and resource.id == wanted:
            points = [t for t in resource.telecom or [] if t.system in ("sms", "phone") and t.value]
            phone = points[0].value if points else None
    if not ids and not phone:
        raise FhirProblem(
            [
                Issue(
                    "required",
                    "name the patient: a reasonReference to the enrolled Procedure (reference"
                    ' or identifier), or a contained Patient with a phone as the subject ("#id")',
                    "Encounter.subject",
                )
            ]
        )
    return ClinicalEvent(
        what=PAUSING_CLASSES.get(code, f"an encounter of class {code or 'unknown'}"),
        procedure_ids=tuple(ids),
        phone=phone,
        pauses=code in PAUSING_CLASSES and encounter.status not in IGNORED_STATUSES,
        status=encounter.status or "",
    )
