"""Essential facts: each tagged text says its fact, and every patient gets every fact."""

from __future__ import annotations

import re

from reminders.adapters.care_plans import CarePlanLibrary
from reminders.adapters.rendering import MessageRenderer
from reminders.domain.careplan import CarePlan
from reminders.domain.model import Channel, MessageStatus
from reminders.services.content import Clinic, message_context
from reminders.services.journey_check import HOURS, Journey, journeys


def fact_pattern(plan: CarePlan, fact: str, language: str) -> re.Pattern[str]:
    """The fact's pattern in a language, with plan variables ({fever_f}) filled in literally."""
    escaped = {k: re.escape(v) for k, v in plan.variables.items()}
    return re.compile(plan.facts[fact][language].format_map(escaped))


def check_fact_coverage(
    *, plans: CarePlanLibrary, renderer: MessageRenderer, clinic: Clinic
) -> list[str]:
    """Return each tagged text that does not say its fact and each patient missing a fact."""
    problems: dict[str, str] = {}
    for j in journeys(plans=plans, renderer=renderer, clinic=clinic):
        if j.hour != HOURS[0] or not j.plan.facts:
            continue  # coverage is about channels and stays; times are the budget check's
        got = _facts_received(j, renderer, clinic, problems)
        if missing := sorted(set(j.plan.facts) - got):
            problems.setdefault(
                f"{j.plan.procedure}:{j.label}",
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
