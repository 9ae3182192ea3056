"""What a message template sees: the patient, the clinic, the procedure and plan variables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from babel.dates import format_date

from reminders.adapters.rendering import MessageRenderer
from reminders.domain.model import Caregiver, Patient, ProcedureRecord
from reminders.domain.planning.careplan import CarePlan
from reminders.domain.planning.timing import zone_named

if TYPE_CHECKING:
    from reminders.settings import Settings


@dataclass(frozen=True)
class Clinic:
    name: str
    phone: str
    discreet_sms: bool = False
    # Who answers nights and weekends; empty means the clinic's own line does.
    after_hours_phone: str = ""
    # Whether the phone is answered in Spanish; if not, Spanish texts offer an interpreter.
    spanish_spoken: bool = True


def clinic_from_settings(settings: Settings) -> Clinic:
    """Return the clinic templates speak for, from the deployment's settings."""
    return Clinic(
        settings.clinic_name,
        settings.clinic_phone,
        settings.discreet_sms,
        after_hours_phone=settings.clinic_after_hours_phone,
        spanish_spoken=settings.clinic_spanish_spoken,
    )


def clinic_names(clinic: Clinic) -> dict[str, Any]:
    """The clinic as every template sees it: who writes, and who answers the phone when."""
    return {
        "name": clinic.name,
        "phone": clinic.phone,
        "after_hours_phone": clinic.after_hours_phone or clinic.phone,
        # Whether a separate after-hours number is set: without one, the "Nights and
        # weekends" line would only repeat the day number, so templates leave it out.
        "after_hours_set": bool(clinic.after_hours_phone),
        "spanish_spoken": clinic.spanish_spoken,
    }


@lru_cache(maxsize=4096)
def long_date(day: date, language: str) -> str:
    """The procedure's day as a reader of `language` writes it (every text of a batch asks
    again for the same few days: babel's formatting is a measurable share of a send)."""
    return format_date(day, format="long", locale=language)


def message_context(
    *,
    plan: CarePlan,
    patient: Patient,
    procedure: ProcedureRecord,
    clinic: Clinic,
    caregiver: Caregiver | None = None,
) -> dict[str, Any]:
    """Return the names docs/care-plans.md promises to templates, for this patient (and,
    for a caregiver's message, `caregiver.name` and `caregiver.relationship`, written in
    the caregiver's language)."""
    local_day = procedure.performed_at.astimezone(zone_named(patient.timezone)).date()
    language = caregiver.language if caregiver is not None else patient.language
    extra = {}
    if caregiver is not None:
        extra["caregiver"] = {"name": caregiver.name, "relationship": caregiver.relationship}
    return {
        **extra,
        "patient": {"first_name": patient.first_name},
        "clinic": clinic_names(clinic),
        "procedure": {
            "title": plan.title.get(language, plan.procedure),
            "levels": procedure.levels,
            "overnight": procedure.overnight,
            "date": long_date(local_day, language),
        },
        "v": dict(plan.variables),
        "discreet": clinic.discreet_sms,
    }


def render_text(renderer: MessageRenderer, name: str, **context: Any) -> str:
    """Render templates/replies/<name> on one line (an SMS) with the clinic's name."""
    text = renderer.text_env.get_template(f"replies/{name}").render(**context)
    return " ".join(text.split())


def patient_text(renderer: MessageRenderer, clinic: Clinic, language: str, name: str) -> str:
    """A reply to a patient in their language (English when we have no such template)."""
    lang = language if has_template(renderer, f"replies/{language}/{name}.j2") else "en"
    return render_text(renderer, f"{lang}/{name}.j2", clinic=clinic_context(clinic), kind="")


def has_template(renderer: MessageRenderer, name: str) -> bool:
    """Whether the renderer has this template (a language may lack some)."""
    return name in renderer.text_env.list_templates()


def clinic_context(clinic: Clinic) -> dict[str, Any]:
    """The clinic as reply templates see it (the same names as message templates)."""
    return clinic_names(clinic)
