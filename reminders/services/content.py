"""What a message template sees: the patient, the clinic, the procedure and plan variables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from babel.dates import format_date

from reminders.domain.careplan import CarePlan
from reminders.domain.model import Patient, ProcedureRecord
from reminders.domain.timing import zone_named


@dataclass(frozen=True)
class Clinic:
    name: str
    phone: str
    discreet_sms: bool = False


def message_context(
    *, plan: CarePlan, patient: Patient, procedure: ProcedureRecord, clinic: Clinic
) -> dict[str, Any]:
    """Return the names docs/care-plans.md promises to templates, for this patient."""
    local_day = procedure.performed_at.astimezone(zone_named(patient.timezone)).date()
    return {
        "patient": {"first_name": patient.first_name},
        "clinic": {"name": clinic.name, "phone": clinic.phone},
        "procedure": {
            "title": plan.title.get(patient.language, plan.procedure),
            "levels": procedure.levels,
            "overnight": procedure.overnight,
            "date": format_date(local_day, format="long", locale=patient.language),
        },
        "v": dict(plan.variables),
        "discreet": clinic.discreet_sms,
    }
