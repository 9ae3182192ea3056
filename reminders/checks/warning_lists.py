"""The 911 and call-the-clinic lists as data: a warning sign rendered under the wrong list is found."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from reminders.adapters.care_plans import CarePlanLibrary
from reminders.adapters.rendering import MessageRenderer
from reminders.domain.model import Caregiver, Channel, Patient, ProcedureRecord
from reminders.domain.planning.careplan import CarePlan, PlanStep
from reminders.services.content import Clinic, message_context

PERFORMED_AT = datetime(2026, 9, 30, 17, 0, tzinfo=UTC)
LIST_NAMES = {"call_911": "the 911 list", "call_clinic": "the call-the-clinic list"}


def split_lists(text: str, call_words: str) -> Iterator[tuple[str, str]]:
    """Cut a message where a list starts (a call word) and say which list each part is:
    ("call_911", part) when the call is to 911, else ("call_clinic", part). Text before
    the first call word belongs to no list."""
    starts = [m.start() for m in re.finditer(call_words, text)]
    if not starts:
        return
    for start, end in zip(starts, [*starts[1:], len(text)], strict=True):
        part = text[start:end]
        yield ("call_911" if "911" in part[:30] else "call_clinic"), part


def misplaced_signs(plan: CarePlan, language: str, text: str) -> list[tuple[str, str, str]]:
    """Each warning sign found under the other list: (sign, the list it belongs to, excerpt)."""
    if not plan.warning_lists or language not in plan.call_words:
        return []
    found = []
    for where, part in split_lists(text, plan.call_words[language]):
        for belongs, signs in plan.warning_lists.items():
            if belongs == where:
                continue
            for sign, patterns in signs.items():
                if m := re.search(patterns[language], part):
                    excerpt = " ".join(part[max(0, m.start() - 30) : m.end() + 30].split())
                    found.append((sign, belongs, excerpt))
    return found


def _contexts(plan: CarePlan, language: str, clinic: Clinic) -> Iterator[dict[str, Any]]:
    patient = Patient("Alex", "Sample", "+18055550100", "a@example.org", language, "UTC")
    caregiver = Caregiver("Sam", "+18055550199", None, language, relationship="daughter")
    for overnight in (False, True):
        procedure = ProcedureRecord(plan.procedure, PERFORMED_AT, levels=1, overnight=overnight)
        for carer in (None, caregiver):
            yield message_context(
                plan=plan, patient=patient, procedure=procedure, clinic=clinic, caregiver=carer
            )


def _texts(
    plan: CarePlan, step: PlanStep, language: str, renderer: MessageRenderer, ctx: dict[str, Any]
) -> Iterator[tuple[str, str]]:
    path = renderer.step_path
    if Channel.SMS in step.channels:
        body = renderer.sms_body(plan.procedure, language, [step.key], ctx)
        yield path(plan.procedure, language, step.key, "sms"), body
    if Channel.EMAIL in step.channels:
        email = renderer.email(plan.procedure, language, [step.key], ctx)
        yield path(plan.procedure, language, step.key, "email"), email.text


def warning_list_problems(
    *, plans: CarePlanLibrary, renderer: MessageRenderer, clinic: Clinic
) -> list[str]:
    """Every message of every plan and language, rendered: each sign under the wrong list."""
    problems: dict[str, str] = {}
    for name in plans.names():
        plan = plans.get(name)
        for language in plan.languages:
            for ctx in _contexts(plan, language, clinic):
                carer = "caregiver" in ctx
                steps = plan.caregiver_steps if carer else plan.steps
                for step in steps:
                    for where, text in _texts(plan, step, language, renderer, ctx):
                        for sign, belongs, excerpt in misplaced_signs(plan, language, text):
                            other = LIST_NAMES[
                                "call_clinic" if belongs == "call_911" else "call_911"
                            ]
                            problems.setdefault(
                                f"{where}:{sign}",
                                f"{where}: {sign} belongs to {LIST_NAMES[belongs]}"
                                f" but is under {other}: ...{excerpt}...",
                            )
    return list(problems.values())
