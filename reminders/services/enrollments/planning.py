"""Preview a care plan for a hypothetical patient: dated, rendered, measured, stored nowhere."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from jinja2 import TemplateError

from reminders.adapters.care_plans import CarePlanLibrary
from reminders.adapters.rendering import MessageRenderer
from reminders.domain.enrollment.caregiver import KIND, expand_caregiver_plan
from reminders.domain.errors import ReminderError, UnsupportedLanguage
from reminders.domain.model import (
    Caregiver,
    Channel,
    Consent,
    ConsentMethod,
    Patient,
    PlannedMessage,
    ProcedureRecord,
)
from reminders.domain.planning.careplan import CarePlan
from reminders.domain.planning.schedule import SchedulePolicy, expand_care_plan
from reminders.domain.planning.sms import SmsSize, measure
from reminders.domain.planning.timing import zone_named
from reminders.services.content import Clinic, message_context


@dataclass(frozen=True)
class PreviewRow:
    message: PlannedMessage
    local_time: datetime
    day: int  # calendar days after the procedure day, in the patient's zone
    text: str  # the whole SMS, or the email's subject
    size: SmsSize | None  # SMS only


@dataclass(frozen=True)
class PlanPreview:
    plan: CarePlan
    patient: Patient
    procedure: ProcedureRecord
    rows: list[PreviewRow]


def preview_plan(
    procedure_name: str,
    *,
    performed_at: datetime,
    timezone: str,
    plans: CarePlanLibrary,
    renderer: MessageRenderer,
    policy: SchedulePolicy,
    clinic: Clinic,
    language: str = "en",
    channels: tuple[Channel, ...] = (Channel.SMS, Channel.EMAIL),
    levels: int = 1,
    overnight: bool = False,
    first_name: str = "Alex",
    enrolled_at: datetime | None = None,
    caregiver_channels: tuple[Channel, ...] = (),
    caregiver_language: str | None = None,
) -> PlanPreview:
    """Show what a patient would receive; by default as if enrolled right after the procedure
    (`enrolled_at`, naive meaning the patient's local time, previews a late enrollment).

    With `caregiver_channels`, a caregiver's messages (kind `caregiver`) come in between,
    written in `caregiver_language` (default: the patient's)."""
    plan = plans.get(procedure_name)
    if language not in plan.languages:
        raise UnsupportedLanguage(
            f"{language!r} is not offered for {plan.procedure}; choose one of "
            + ", ".join(plan.languages)
        )
    zone = zone_named(timezone)
    when = performed_at if performed_at.tzinfo else performed_at.replace(tzinfo=zone)
    when = when.astimezone(UTC)
    if not channels:
        raise ReminderError("choose at least one channel: sms, email", field="channels")
    patient = Patient(
        first_name=first_name,
        last_name="Preview",
        phone="+18055550100" if Channel.SMS in channels else None,
        email="patient@example.org" if Channel.EMAIL in channels else None,
        language=language,
        timezone=zone.key,
    )
    consents = [
        Consent(
            channel=c,
            given=True,
            method=ConsentMethod.VERBAL,
            recorded_by="preview",
            recorded_at=when,
        )
        for c in channels
    ]
    procedure = ProcedureRecord(plan.procedure, when, levels=levels, overnight=overnight)
    if enrolled_at is not None and enrolled_at.tzinfo is None:  # read like performed_at
        enrolled_at = enrolled_at.replace(tzinfo=zone)
    planned = expand_care_plan(
        plan, procedure, patient, consents, now=enrolled_at or when, policy=policy
    )
    context = message_context(plan=plan, patient=patient, procedure=procedure, clinic=clinic)
    contexts = {"care": (language, context)}
    if caregiver_channels:
        caregiver = Caregiver(
            name="Sam",
            phone="+18055550199" if Channel.SMS in caregiver_channels else None,
            email="caregiver@example.org" if Channel.EMAIL in caregiver_channels else None,
            language=caregiver_language or language,
            relationship="daughter",
            sms_consent=Channel.SMS in caregiver_channels,
            email_consent=Channel.EMAIL in caregiver_channels,
        )
        if caregiver.language not in plan.languages:
            raise UnsupportedLanguage(f"{caregiver.language!r} is not offered for {plan.procedure}")
        planned += expand_caregiver_plan(
            plan,
            procedure,
            caregiver,
            timezone=zone.key,
            now=enrolled_at or when,
            policy=policy,
        )
        planned.sort(key=lambda m: (m.send_at, m.kind == KIND, m.channel != Channel.SMS))
        contexts[KIND] = (
            caregiver.language,
            message_context(
                plan=plan, patient=patient, procedure=procedure, clinic=clinic, caregiver=caregiver
            ),
        )
    start_day = when.astimezone(zone).date()
    rows = []
    for m in planned:
        local = m.send_at.astimezone(zone)
        language, context = contexts[KIND if m.kind == KIND else "care"]
        try:
            if m.channel is Channel.SMS:
                text = renderer.sms(plan.procedure, language, m.parts, context, first=m.first_sms)
                size: SmsSize | None = measure(text)
            else:
                text = renderer.email(plan.procedure, language, m.parts, context).subject
                size = None
        except TemplateError as exc:
            raise ReminderError(f"template problem in {m.step_key} ({m.channel}): {exc}") from None
        rows.append(PreviewRow(m, local, (local.date() - start_day).days, text, size))
    return PlanPreview(plan=plan, patient=patient, procedure=procedure, rows=rows)
