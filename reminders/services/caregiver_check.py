"""Caregiver journeys: every caregiver gets the 911 list and the call-the-clinic list, in budget.

For every plan with `[[caregiver_steps]]`, language, same-day and overnight stay,
procedure time and channel mix (text only, email only, both), the caregiver's messages
are planned as for a real caregiver (domain/caregiver.py) and rendered: each text is
measured against the budget, each tagged template must say its fact, and each caregiver
must receive `emergency_911` (when the plan declares it) and every `[caregiver_facts]`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from reminders.adapters.care_plans import CarePlanLibrary
from reminders.adapters.rendering import MessageRenderer
from reminders.domain.caregiver import expand_caregiver_plan
from reminders.domain.careplan import CarePlan
from reminders.domain.model import Caregiver, Channel, MessageStatus, Patient, ProcedureRecord
from reminders.domain.schedule import SchedulePolicy
from reminders.domain.sms import measure
from reminders.domain.timing import zone_named
from reminders.services.content import Clinic, message_context
from reminders.services.journey_check import CHANNEL_MIXES, HOURS, SAMPLE_DAY, ZONE
from reminders.services.keyword_check import unhonoured_words

EMERGENCY = "emergency_911"


def required_facts(plan: CarePlan) -> set[str]:
    """What every caregiver must receive: the 911 list and the caregiver-only facts."""
    return ({EMERGENCY} & set(plan.facts)) | set(plan.caregiver_facts)


def sample_caregiver(language: str, channels: tuple[Channel, ...]) -> Caregiver:
    return Caregiver(
        name="Maximiliana",
        phone="+18055550199" if Channel.SMS in channels else None,
        email="carer@example.org" if Channel.EMAIL in channels else None,
        language=language,
        relationship="daughter",
        sms_consent=Channel.SMS in channels,
        email_consent=Channel.EMAIL in channels,
    )


def caregiver_problems(
    *, plans: CarePlanLibrary, renderer: MessageRenderer, clinic: Clinic
) -> list[str]:
    """Return each caregiver text over budget, tagged template that lies, or missing fact."""
    problems: dict[str, str] = {}
    zone = zone_named(ZONE)
    for name in plans.names():
        plan = plans.get(name)
        if not plan.caregiver_steps:
            continue
        for language in plan.languages:
            patient = Patient("Maximiliano", "Sample", "+18055550100", None, language, ZONE)
            for overnight in (False, True):
                for hour in HOURS:
                    at = datetime.combine(SAMPLE_DAY, hour, tzinfo=zone)
                    procedure = ProcedureRecord(name, at, overnight=overnight)
                    for mix, channels in CHANNEL_MIXES.items():
                        caregiver = sample_caregiver(language, channels)
                        label = (
                            f"{language}, {'overnight' if overnight else 'same day'},"
                            f" procedure at {hour:%H:%M}, caregiver by {mix}"
                        )
                        context = message_context(
                            plan=plan,
                            patient=patient,
                            procedure=procedure,
                            clinic=clinic,
                            caregiver=caregiver,
                        )
                        got = _journey(plan, procedure, caregiver, context, renderer, problems)
                        if hour != HOURS[0]:
                            continue  # coverage is about channels and stays
                        if missing := sorted(required_facts(plan) - got):
                            problems.setdefault(
                                f"{name}:{label}",
                                f"care plan {name} ({label}): the caregiver never gets"
                                f" {', '.join(missing)}",
                            )
    return list(problems.values())


def _journey(
    plan: CarePlan,
    procedure: ProcedureRecord,
    caregiver: Caregiver,
    context: dict[str, Any],
    renderer: MessageRenderer,
    problems: dict[str, str],
) -> set[str]:
    lang, got = caregiver.language, set()
    planned = expand_caregiver_plan(
        plan,
        procedure,
        caregiver,
        timezone=ZONE,
        now=procedure.performed_at,
        policy=SchedulePolicy(),
    )
    for m in planned:
        if m.status is not MessageStatus.SCHEDULED:
            continue
        where = f"messages/{plan.procedure}/{lang}/{m.step_key}"
        if m.channel is Channel.SMS:
            text = renderer.sms(plan.procedure, lang, m.parts, context, first=m.first_sms)
            budget = plan.segment_budget(lang)  # merged or not, as for the patient's texts
            if (size := measure(text)).segments > budget:
                problems.setdefault(
                    f"{where}:budget",
                    f"{where}.sms.j2: the caregiver's text is {size.segments} segments"
                    f" ({size.encoding}, {size.units} characters); the budget is {budget}",
                )
            if words := unhonoured_words(text):
                problems.setdefault(
                    f"{where}:words",
                    f"{where}.sms.j2: tells the caregiver to reply {', '.join(words)},"
                    " which no keyword honours",
                )
        for key in m.parts:
            step = next(s for s in plan.caregiver_steps if s.key == key)
            if m.channel is Channel.SMS:
                body = renderer.sms_body(plan.procedure, lang, [key], context)
            else:
                body = renderer.email(plan.procedure, lang, [key], context).text
            for fact in step.facts:
                if _pattern(plan, fact, lang).search(body):
                    got.add(fact)
                else:
                    path = f"messages/{plan.procedure}/{lang}/{key}.{m.channel.value}.j2"
                    problems.setdefault(
                        f"{path}:{fact}",
                        f"{path}: tagged with the fact {fact} but does not say it"
                        f" ({plan.fact(fact)[lang]})",
                    )
    return got


def _pattern(plan: CarePlan, fact: str, language: str) -> re.Pattern[str]:
    escaped = {k: re.escape(v) for k, v in plan.variables.items()}
    return re.compile(plan.fact(fact)[language].format_map(escaped))
