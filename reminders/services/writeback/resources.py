"""The FHIR R4 resources written back, built from our rows and validated with fhir.resources R4B.

A Communication per message sent, a QuestionnaireResponse per check-in answer (pain as
LOINC 72514-3), a Flag per red flag and a Task when a nurse acknowledged it. Each carries
a business identifier (system|value) that the conditional create matches on. The patient
is named by identifier, never by a reference into another server: the MRN (PID-3) when an
HL7 feed gave one, else this service's patient number. See docs/integration.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fhir.resources.R4B.communication import Communication
from fhir.resources.R4B.flag import Flag
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir.resources.R4B.task import Task

SYSTEM = "urn:recovery-reminders"
PATIENT = f"{SYSTEM}:patient"
MRN = f"{SYSTEM}:mrn"  # PID-3 as the HL7 feed wrote it: id^^^assigning authority
PAIN_LOINC = "72514-3"
PAIN_TEXT = "Pain severity - 0-10 verbal numeric rating [Score] - Reported"
MEDIUM = {"sms": ("SMSWRIT", "SMS message"), "email": ("EMAILWRIT", "email")}
VALIDATORS = {
    "Communication": Communication,
    "QuestionnaireResponse": QuestionnaireResponse,
    "Flag": Flag,
    "Task": Task,
}


@dataclass(frozen=True)
class Built:
    business_id: str  # unique in the outbox
    identifier: str  # system|value, for If-None-Exist
    resource: dict[str, Any]


def subject(patient_id: int, mrn: str | None) -> dict[str, Any]:
    if mrn:
        return {"identifier": {"system": MRN, "value": mrn}}
    return {"identifier": {"system": PATIENT, "value": str(patient_id)}}


def communication(row: dict[str, Any], mrn: str | None) -> Built:
    system = f"{SYSTEM}:message"
    code, display = MEDIUM.get(row["channel"], ("WRITTEN", row["channel"]))
    to_caregiver = row["kind"] == "caregiver"
    resource = {
        "resourceType": "Communication",
        "identifier": [{"system": system, "value": str(row["id"])}],
        "status": "completed",
        "category": [{"text": f"post-procedure {row['category']}"}],
        "medium": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode",
                        "code": code,
                        "display": display,
                    }
                ]
            }
        ],
        "subject": subject(row["patient_id"], mrn),
        "recipient": [
            {"display": "the patient's caregiver"}
            if to_caregiver
            else subject(row["patient_id"], mrn)
        ],
        "sent": _when(row["sent_at"] or row["updated_at"]),
        **({"received": _when(row["delivered_at"])} if row["delivered_at"] else {}),
        "payload": [{"contentString": row["body"] or "(no text kept)"}],
    }
    return validated(f"message-{row['id']}", system, str(row["id"]), resource)


def questionnaire_response(row: dict[str, Any], mrn: str | None) -> Built:
    system = f"{SYSTEM}:checkin-answer"
    if row["pain"] is not None:  # a pain check-in (or pain-and-warning) answered with a score
        item = {
            "linkId": PAIN_LOINC,
            "definition": f"http://loinc.org#{PAIN_LOINC}",
            "text": PAIN_TEXT,
            "answer": [{"valueInteger": int(row["pain"])}],
        }
    else:
        item = {
            "linkId": "warning-signs",
            "text": "Any warning sign since the procedure (the plan's list)?",
            "answer": [{"valueBoolean": row["answer"] == "yes"}],
        }
    resource = {
        "resourceType": "QuestionnaireResponse",
        "identifier": {"system": system, "value": str(row["id"])},
        "status": "completed",
        "subject": subject(row["patient_id"], mrn),
        "authored": _when(row["answered_at"]),
        "item": [item],
    }
    return validated(f"answer-{row['id']}", system, str(row["id"]), resource)


def flag(row: dict[str, Any], mrn: str | None) -> Built:
    system = f"{SYSTEM}:red-flag"
    resource = {
        "resourceType": "Flag",
        "identifier": [{"system": system, "value": str(row["id"])}],
        "status": "active",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/flag-category",
                        "code": "clinical",
                        "display": "Clinical",
                    }
                ]
            }
        ],
        "code": {"text": f"Red flag from the patient's answer: {row['reason']}"[:1000]},
        "subject": subject(row["patient_id"], mrn),
        "period": {"start": _when(row["created_at"])},
    }
    return validated(f"red-flag-{row['id']}", system, str(row["id"]), resource)


def acknowledgement(row: dict[str, Any], mrn: str | None) -> Built:
    system = f"{SYSTEM}:red-flag-acknowledgement"
    resource = {
        "resourceType": "Task",
        "identifier": [{"system": system, "value": str(row["id"])}],
        "status": "completed",
        "intent": "order",
        "code": {"text": "Acknowledge a red flag from a post-procedure check-in"},
        "description": f"Acknowledged by {row['acknowledged_by'] or 'staff'}",
        "focus": {"identifier": {"system": f"{SYSTEM}:red-flag", "value": str(row["id"])}},
        "for": subject(row["patient_id"], mrn),
        "authoredOn": _when(row["created_at"]),
        "lastModified": _when(row["acknowledged_at"]),
        "executionPeriod": {
            "start": _when(row["created_at"]),
            "end": _when(row["acknowledged_at"]),
        },
    }
    return validated(f"red-flag-{row['id']}-ack", system, str(row["id"]), resource)


def validated(business_id: str, system: str, value: str, resource: dict[str, Any]) -> Built:
    """Validated against the R4B model (pydantic raises on anything R4 does not allow)."""
    model: Any = VALIDATORS[resource["resourceType"]]
    model.model_validate(resource)
    return Built(business_id, f"{system}|{value}", resource)


def _when(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")
