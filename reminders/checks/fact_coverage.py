"""Essential facts: each tagged text says its fact, and every patient gets every fact.

A patient enrolled late (journey_check.LATENESS) must still get the plan's catch-up facts
(`catch_up_facts`, and the 911 list whenever the plan declares it), at any procedure hour.
"""

from __future__ import annotations

import re

from reminders.adapters.care_plans import CarePlanLibrary
from reminders.adapters.rendering import MessageRenderer
from reminders.checks.journey_check import HOURS, Journey, journeys
from reminders.domain.model import Channel, MessageStatus
from reminders.domain.planning.careplan import CarePlan
from reminders.services.content import Clinic, message_context

EMERGENCY = "emergency_911"  # the 911 list: no plan that declares it may lose it to lateness


def fact_pattern(plan: CarePlan, fact: str, language: str) -> re.Pattern[str]:
    """The fact's pattern in a language, with plan variables ({fever_f}) filled in literally."""
    escaped = {k: re.escape(v) for k, v in plan.variables.items()}
    return re.compile(plan.facts[fact][language].format_map(escaped))


def owed(plan: CarePlan, *, late: bool) -> set[str]:
    """The facts a patient must receive: all of them, enrolled on time or late (the care
    rules of the first days still apply on day 5: a late plan catches them up)."""
    del late  # the same, on purpose: lateness loses no essential fact
    return set(plan.facts)


def check_fact_coverage(
    *, plans: CarePlanLibrary, renderer: MessageRenderer, clinic: Clinic
) -> list[str]:
    """Return each tagged text that does not say its fact and each patient missing a fact."""
    problems: dict[str, str] = {}
    for j in journeys(plans=plans, renderer=renderer, clinic=clinic):
        if (j.hour != HOURS[0] and not j.late) or not j.plan.facts:
            continue  # on time, coverage is about channels and stays; late, times matter
        got = _facts_received(j, renderer, clinic, problems)
        if missing := sorted(owed(j.plan, late=bool(j.late)) - got):
            # Late, said once per language, channel mix and lateness (the first hour and stay).
            key = f"{j.language}:{j.mix}:{j.late}" if j.late else j.label
            problems.setdefault(
                f"{j.plan.procedure}:{key}",
                f"care plan {j.plan.procedure} ({j.label}): the patient never gets"
                f" {', '.join(missing)}",
            )
    return list(problems.values())


def _facts_received(
    j: Journey, renderer: MessageRenderer, clinic: Clinic, problems: dict[str, str]
) -> set[str]:
    pv, lang = j.preview, j.language
    context = message_context(
        plan=pv.plan, patient=pv.patient, procedure=pv.procedure, clinic=clinic
    )
    got: set[str] = set()
    for row in pv.rows:
        m = row.message
        if m.status is not MessageStatus.SCHEDULED:
            continue
        for key in m.parts:
            step = pv.plan.step(key)
            if m.channel is Channel.SMS:
                text = renderer.sms_body(pv.plan.procedure, lang, [key], context)
            else:
                text = renderer.email(pv.plan.procedure, lang, [key], context).text
            for fact in step.facts:
                if fact_pattern(pv.plan, fact, lang).search(text):
                    got.add(fact)
                else:
                    where = f"messages/{pv.plan.procedure}/{lang}/{key}.{m.channel.value}.j2"
                    problems.setdefault(
                        f"{where}:{fact}",
                        f"{where}: tagged with the fact {fact} but does not say it"
                        f" ({pv.plan.facts[fact][lang]})",
                    )
    return got
