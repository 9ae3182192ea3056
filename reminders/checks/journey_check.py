"""Render whole journeys (the texts as merged by the SMS cap) and check budgets, lists and words."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from itertools import product

from reminders.adapters.care_plans import CarePlanLibrary
from reminders.adapters.rendering import MessageRenderer
from reminders.checks.keyword_check import unhonoured_words
from reminders.domain.model import Channel, MessageStatus
from reminders.domain.planning.careplan import CarePlan
from reminders.domain.planning.schedule import CATCH_UP, SchedulePolicy
from reminders.domain.planning.sms import is_gsm7, non_gsm7_characters
from reminders.domain.planning.timing import zone_named
from reminders.services.content import Clinic, message_context
from reminders.services.enrollments.planning import PlanPreview, preview_plan

ZONE = "America/Los_Angeles"
# A day procedure, the edge of quiet hours (its +2 h text lands at 21:30) and a late one.
HOURS = (time(10, 0), time(19, 30), time(23, 30))
CHANNEL_MIXES: dict[str, tuple[Channel, ...]] = {
    "sms": (Channel.SMS,),
    "email": (Channel.EMAIL,),
    "both": (Channel.SMS, Channel.EMAIL),
}
SAMPLE_DAY = datetime(2026, 9, 30)
# Enrolled at once, or late: 30 h (the day-0 text is stale; enrolled at 16:00, 01:30 or
# 05:30) and 5 days after. A late patient must still get the plan's catch-up facts.
LATENESS = (timedelta(0), timedelta(hours=30), timedelta(days=5))
# "procedure.- Do not soak": a list item glued to the text before it.
_GLUED_ITEM = re.compile(r"\S- \S")
# Typographic punctuation that has a plain GSM-7 twin (curly quotes, dashes, ellipsis).
_TYPOGRAPHIC = frozenset("\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u00b4")


def avoidable_ucs2(text: str) -> list[str]:
    """The characters that make a text UCS-2 although a GSM-7 spelling exists, or [].

    An accented Latin letter (á í ó ú) can lose its accent, a curly quote can be straight;
    a text that needs UCS-2 for anything else (another script, an emoji) is left alone:
    its language needs it (docs/care-plans.md).
    """
    culprits = non_gsm7_characters(text)
    if not culprits or not all(_has_gsm7_twin(ch) for ch in culprits):
        return []
    return culprits


def _has_gsm7_twin(ch: str) -> bool:
    if ch in _TYPOGRAPHIC:
        return True
    base = unicodedata.normalize("NFD", ch)[0]
    return base != ch and is_gsm7(base)


@dataclass(frozen=True)
class Journey:
    plan: CarePlan
    language: str
    overnight: bool
    hour: time
    mix: str
    preview: PlanPreview
    late: timedelta = timedelta(0)  # how long after the procedure the patient was enrolled

    @property
    def label(self) -> str:
        stay = "overnight" if self.overnight else "same day"
        return (
            f"{self.language}, {stay}, procedure at {self.hour:%H:%M}, {self.mix}"
            + lateness_words(self.late)
        )


def lateness_words(late: timedelta) -> str:
    """ ", enrolled 30 h after" or ", enrolled 5 days after" (nothing for at once)."""
    if not late:
        return ""
    hours = int(late.total_seconds() // 3600)
    return f", enrolled {hours} h after" if hours < 48 else f", enrolled {late.days} days after"


def journeys(
    *, plans: CarePlanLibrary, renderer: MessageRenderer, clinic: Clinic
) -> Iterator[Journey]:
    """Every plan x language x stay x procedure time x channel mix x lateness, planned as a
    patient's."""
    zone = zone_named(ZONE)
    for name in plans.names():
        plan = plans.get(name)
        for language in plan.languages:
            for overnight in (False, True):
                for hour in HOURS:
                    at = datetime.combine(SAMPLE_DAY, hour, tzinfo=zone)
                    for (mix, channels), late in product(CHANNEL_MIXES.items(), LATENESS):
                        preview = preview_plan(
                            name,
                            performed_at=at,
                            timezone=ZONE,
                            plans=plans,
                            renderer=renderer,
                            policy=SchedulePolicy(),
                            clinic=clinic,
                            language=language,
                            channels=channels,
                            overnight=overnight,
                            enrolled_at=at + late,
                        )
                        yield Journey(plan, language, overnight, hour, mix, preview, late)


def check_journeys(
    *, plans: CarePlanLibrary, renderer: MessageRenderer, clinic: Clinic
) -> list[str]:
    """Return what is wrong in the texts and emails whole journeys send, each said once."""
    problems: dict[str, str] = {}
    for name in plans.names():
        plan = plans.get(name)
        catches_up = plan.catch_up_facts or any(s.catch_up for s in plan.steps)
        if catches_up and (missing := [x for x in plan.languages if x not in plan.now_words]):
            # The words that tie a text to its day must be known to prove no late text says them.
            problems[f"{name}:now_words"] = (
                f"care plan {name}: sends late messages but [now_words] has no pattern for"
                f" {', '.join(missing)} (e.g. today, tonight)"
            )
    for j in journeys(plans=plans, renderer=renderer, clinic=clinic):
        pv = j.preview
        context = message_context(
            plan=pv.plan, patient=pv.patient, procedure=pv.procedure, clinic=clinic
        )
        for row in pv.rows:
            m = row.message
            if m.status is not MessageStatus.SCHEDULED:
                continue
            where = f"messages/{pv.plan.procedure}/{j.language}/{m.step_key}"
            text = row.text
            if m.channel is Channel.EMAIL:
                text = renderer.email(pv.plan.procedure, j.language, m.parts, context).text
            if m.status_reason == CATCH_UP and (said := now_word(pv.plan, j.language, text)):
                problems.setdefault(
                    f"{where}:now",
                    f"{where}: a catch-up {m.channel.value} sent on day {row.day} says"
                    f" {said!r} ({j.label}); a late message must not speak of the day it goes",
                )
            if m.channel is Channel.SMS and row.size is not None:
                # The daily cap merges a day's steps into one text, and the patient reads
                # (and pays for) that one text: it keeps the language's budget, however
                # many steps it carries (docs/care-plans.md).
                budget = pv.plan.segment_budget(j.language, m.parts)
                if row.size.segments > budget:
                    problems.setdefault(
                        f"{where}:budget",
                        f"{where}: the text sent on day {row.day} is {row.size.segments} segments"
                        f" ({row.size.encoding}, {row.size.units} characters; {j.label});"
                        f" the budget is {budget}, merged or not",
                    )
                if avoidable := avoidable_ucs2(row.text):
                    problems.setdefault(
                        f"{where}:ucs2",
                        f"{where}: the text sent on day {row.day} is UCS-2 because of"
                        f" {' '.join(avoidable)} ({j.label}); write it in GSM-7",
                    )
                if words := unhonoured_words(row.text):
                    problems.setdefault(
                        f"{where}:words",
                        f"{where}: tells the patient to reply {', '.join(words)}, which no keyword honours",
                    )
            elif m.channel is Channel.EMAIL:
                for line in text.splitlines():
                    if _GLUED_ITEM.search(line):
                        problems.setdefault(
                            f"{where}:list",
                            f"{where}: a list item runs into the text before it: {line.strip()[:80]!r}",
                        )
    return list(problems.values())


def now_word(plan: CarePlan, language: str, text: str) -> str | None:
    """The word tied to the sending day ("today", "tonight") a message says, if any."""
    pattern = plan.now_words.get(language)
    found = re.search(pattern, text) if pattern else None
    return found.group(0) if found else None
