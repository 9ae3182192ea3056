"""What an EHR may pull: a patient's written-back resources as a searchset Bundle, and the
CapabilityStatement that lists exactly what the FHIR endpoint supports."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from reminders.adapters.db.interfaces.writeback_repository import OutboxItem
from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.services import audit

SEARCHABLE = ("Communication", "QuestionnaireResponse", "Flag", "Task")
PATIENT_PARAM = {
    "name": "patient",
    "type": "reference",
    "documentation": "Patient/<id> or <id>: this service's patient number, as the staff"
    " pages and the REST API show it",
}


def search(
    uow: UnitOfWork, resource_type: str, *, patient_id: int, by: str, now: datetime
) -> dict[str, Any]:
    """The patient's resources of one type (delivered or not yet), as a Bundle; audited."""
    with uow:
        stored = uow.writeback.search(resource_type, patient_id=patient_id)
    what = f"FHIR {resource_type} search, patient {patient_id}: {len(stored)} result(s)"
    audit.record_read(uow=uow, actor=by, what=what, now=now)
    entries = []
    for text in stored:
        resource = json.loads(text)
        first = resource["identifier"]
        first = first[0] if isinstance(first, list) else first
        resource["id"] = f"{first['system'].rsplit(':', 1)[-1]}-{first['value']}"
        entries.append({"fullUrl": f"{resource_type}/{resource['id']}", "resource": resource,
                        "search": {"mode": "match"}})  # fmt: skip
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}


def failing(uow: UnitOfWork, enrollment_id: int) -> list[OutboxItem]:
    """What has not reached the chart after a failed try (the patient page's warning)."""
    with uow:
        return uow.writeback.failing(enrollment_id)


def outbox_counts(uow: UnitOfWork) -> dict[str, int]:
    """How many resources are pending and delivered (the Interfaces page)."""
    with uow:
        return uow.writeback.counts()


def capability_statement(*, base_url: str, now: datetime) -> dict[str, Any]:
    """This endpoint's CapabilityStatement (R4), validated by the R4B model before it is served."""
    statement: dict[str, Any] = {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": now.date().isoformat(),
        "publisher": "Recovery Reminders",
        "kind": "instance",
        "software": {"name": "Recovery Reminders"},
        "implementation": {
            "description": "Post-procedure reminders: EHR intake and results for the chart",
            "url": f"{base_url}/fhir",
        },
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "description": "Every interaction but this one needs an API token with"
                    " the fhir scope: Authorization: Bearer <token>"
                },
                "resource": [
                    {
                        "type": "Procedure",
                        "interaction": [{"code": "create"}],
                        "documentation": "A completed Procedure enrolls its contained Patient;"
                        " entered-in-error or not-done cancels",
                    },
                    {
                        "type": "Encounter",
                        "interaction": [{"code": "create"}],
                        "documentation": "An emergency visit or admission pauses the messages",
                    },
                    *(
                        {
                            "type": kind,
                            "interaction": [{"code": "search-type"}],
                            "searchParam": [PATIENT_PARAM],
                        }
                        for kind in SEARCHABLE
                    ),
                ],
            }
        ],
    }
    CapabilityStatement.model_validate(statement)
    return statement
