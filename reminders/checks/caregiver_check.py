"""Caregiver journeys: every caregiver gets the 911 list and the call-the-clinic list, in budget.

For every plan with `[[caregiver_steps]]`, language, same-day and overnight stay,
procedure time, channel mix (text only, email only, both) and lateness (added at once,
30 h or 5 days after the procedure: journey_check.LATENESS), the caregiver's messages
are planned as for a real caregiver (domain/enrollment/caregiver.py) and rendered: each text is
measured against the budget, each tagged template must say its fact, and each caregiver
must receive `emergency_911` (when the plan declares it) and every `[caregiver_facts]`;
one added late must still receive the plan's catch-up facts.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from itertools import product
from typing import Any

from reminders.adapters.care_plans import CarePlanLibrary
from reminders.adapters.rendering import MessageRenderer
from reminders.checks.journey_check import (
    CHANNEL_MIXES,
    HOURS,
    LATENESS,
    SAMPLE_DAY,
    ZONE,
    lateness_words,
)
from reminders.checks.keyword_check import unhonoured_words
from reminders.domain.enrollment.caregiver import expand_caregiver_plan
from reminders.domain.model import Caregiver, Channel, MessageStatus, Patient, ProcedureRecord
from reminders.domain.planning.careplan import CarePlan
from reminders.domain.planning.schedule import SchedulePolicy
from reminders.domain.planning.sms import measure
from reminders.domain.planning.timing import zone_named
from reminders.services.content import Clinic, message_context

EMERGENCY = "emergency_911"


def required_facts(plan: CarePlan, *, late: bool = False) -> set[str]:
    """What every caregiver must receive: the 911 list and the caregiver-only facts; added
    late (after the first-day text's time), the plan's catch-up facts and the 911 list."""
    if late:
        return set(plan.catch_up_facts) | ({EMERGENCY} & set(plan.facts))
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
                    for (mix, channels), late in product(CHANNEL_MIXES.items(), LATENESS):
                        caregiver = sample_caregiver(language, channels)
                        label = (
                            f"{language}, {'overnight' if overnight else 'same day'},"
                            f" procedure at {hour:%H:%M}, caregiver by {mix}" + lateness_words(late)
                        )
                        context = message_context(
                            plan=plan,
                            patient=patient,
                            procedure=procedure,
                            clinic=clinic,
                            caregiver=caregiver,
                        )
                        got = _journey(
                            plan, procedure, caregiver, context, renderer, problems, late
                        )
                        if hour != HOURS[0] and not late:
                            continue  # on time, coverage is about channels and stays
                        if missing := sorted(required_facts(plan, late=bool(late)) - got):
                            key = f"{language}:{mix}:{late}" if late else label
                            problems.setdefault(
                                f"{name}:{key}",
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
    late: timedelta,
) -> set[str]:
    lang, got = caregiver.language, set()
    planned = expand_caregiver_plan(
        plan,
        procedure,
        caregiver,
        timezone=ZONE,
        now=procedure.performed_at + late,
        policy=SchedulePolicy(),
    )
    for m in planned:
        if m.status is not MessageStatus.SCHEDULED:
            continue
        where = f"messages/{plan.procedure}/{lang}/{m.step_key}"
        if m.channel is Channel.SMS:
            text = renderer.sms(plan.procedure, lang, m.parts, context, first=m.first_sms)
            budget = plan.segment_budget(lang, m.parts)  # merged or not, as for the patient's texts
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
