"""CarePlan and PlanStep: a procedure's schedule of messages, validated from plain data."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from reminders.domain.errors import InvalidCarePlan
from reminders.domain.model import Channel, ProcedureRecord
from reminders.domain.planning.timing import StepTime, parse_duration, parse_step_time

CATEGORIES = frozenset(
    {
        "first_hours",
        "rest",
        "icing",
        "pain_medication",
        "wound_care",
        "activity",
        "driving_work",
        "warning_signs",
        "follow_up",
        "bone_health",
        "fall_prevention",
        "checkin",
    }
)
CHECKINS = frozenset({"pain", "warning", "pain_warning", "bone_med"})
BOTH = frozenset({Channel.SMS, Channel.EMAIL})
# A condition sees the procedure and the channels the patient consented to (and can be
# reached on): "sms_only" steps carry by text what an email would otherwise carry.
CONDITIONS: dict[str, Callable[[ProcedureRecord, Collection[Channel]], bool]] = {
    "overnight": lambda p, ch: p.overnight,
    "same_day": lambda p, ch: not p.overnight,
    "multilevel": lambda p, ch: p.levels > 1,
    "single_level": lambda p, ch: p.levels <= 1,
    "sms_only": lambda p, ch: Channel.SMS in ch and Channel.EMAIL not in ch,
}
_FACT = re.compile(r"^[a-z0-9_]+$")
_KEY = re.compile(r"^[a-z0-9_]+$")
DEFAULT_STALE_AFTER = timedelta(hours=24)
# The languages staff pages can be read in (REMINDERS_STAFF_LANGUAGE): every step needs a
# title in each, which `reminders templates check` makes sure of.
STAFF_LANGUAGES = ("en", "es")


@dataclass(frozen=True)
class PlanStep:
    key: str
    category: str
    time: StepTime
    at_text: str
    stale_after: timedelta = DEFAULT_STALE_AFTER
    channels: tuple[Channel, ...] = (Channel.SMS, Channel.EMAIL)
    only_if: tuple[str, ...] = ()  # every condition must hold
    checkin: str | None = None
    facts: tuple[str, ...] = ()  # the plan's essential facts this step's texts carry
    title: str = ""  # what staff read for this step (English); a readable form of the key if unset
    titles: Mapping[str, str] = field(default_factory=dict)  # language -> title, as written
    # This step's own SMS budget in segments, over the plan's (the first safety text's 911
    # list with the spinal emergency may take 3); None: the plan's budget.
    sms_segments: int | None = None
    # Sent as soon as allowed when its time had passed at enrollment, like a step carrying
    # a catch-up fact (the late patient's "your care rules this week").
    catch_up: bool = False
    # Only for a patient enrolled at least this long after the procedure; None: everyone.
    enrolled_after: timedelta | None = None

    def title_in(self, language: str) -> str:
        """The step's title in the staff's language, else in English."""
        return self.titles.get(language) or self.title

    def applies_to(self, procedure: ProcedureRecord, channels: Collection[Channel] = BOTH) -> bool:
        """Whether this patient gets the step, given the procedure and consented channels."""
        return all(CONDITIONS[c](procedure, channels) for c in self.only_if)

    def applies_when_enrolled(self, procedure: ProcedureRecord, enrolled: datetime) -> bool:
        """Whether a patient enrolled (or re-planned) at `enrolled` gets the step."""
        return (
            self.enrolled_after is None or enrolled - procedure.performed_at >= self.enrolled_after
        )


@dataclass(frozen=True)
class CarePlan:
    procedure: str
    languages: tuple[str, ...]
    duration_days: int
    title: Mapping[str, str]
    steps: tuple[PlanStep, ...]
    variables: Mapping[str, str] = field(default_factory=dict)
    sms_segments: Mapping[str, int] = field(default_factory=dict)
    # Codes an EHR may send for this procedure: coding system -> codes (FHIR intake).
    codes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Essential facts every patient must get by whichever channel they consented to:
    # name -> language -> a regular expression the rendered text that carries it matches.
    facts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # What a caregiver gets (domain/enrollment/caregiver.py): its own steps, never check-ins, and the
    # facts its messages must carry (a plan fact or one of `caregiver_facts`).
    caregiver_steps: tuple[PlanStep, ...] = ()
    caregiver_facts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # Facts lateness never loses: a step carrying one goes out late rather than skipped
    # (domain/planning/schedule.py, "catch-up"), e.g. the 911 list and the fever threshold.
    catch_up_facts: tuple[str, ...] = ()
    # The warning signs by list (`[warning_lists]`): "call_911" and "call_clinic", each
    # sign -> language -> a pattern; and "call_words", language -> the pattern that starts a
    # list ("call", "llame"). A sign found under the other list is a defect
    # (checks/warning_lists.py).
    warning_lists: Mapping[str, Mapping[str, Mapping[str, str]]] = field(default_factory=dict)
    call_words: Mapping[str, str] = field(default_factory=dict)
    # language -> a pattern of words tied to the day a text is sent ("today", "tonight"):
    # a text sent late as a catch-up must not match it.
    now_words: Mapping[str, str] = field(default_factory=dict)

    def catches_up(self, step: PlanStep) -> bool:
        """Whether the step carries a catch-up fact: sent as soon as allowed when late."""
        return step.catch_up or not set(step.facts).isdisjoint(self.catch_up_facts)

    def fact(self, name: str) -> Mapping[str, str]:
        """A fact's patterns per language, a plan fact or a caregiver-only one."""
        return self.facts.get(name) or self.caregiver_facts[name]

    @property
    def duration(self) -> timedelta:
        return timedelta(days=self.duration_days)

    def step(self, key: str) -> PlanStep:
        for s in (*self.steps, *self.caregiver_steps):
            if s.key == key:
                return s
        raise KeyError(key)

    def segment_budget(self, language: str, steps: Collection[str] = ()) -> int:
        """The SMS budget of a text carrying `steps` (merged or not): the plan's, or the
        largest a step allows itself (`sms_segments` on the step)."""
        own = [self.step(k).sms_segments for k in steps]
        return max([self.sms_segments.get(language, 1), *(n for n in own if n)])


def missing_titles(plan: CarePlan, languages: Collection[str] = STAFF_LANGUAGES) -> list[str]:
    """Each step that has no title in a staff language, as "<step>: no title in <language>"."""
    return [
        f"{step.key}: no title in {language}"
        for step in plan.steps
        for language in languages
        if not step.titles.get(language)
    ]


def readable_key(key: str) -> str:
    """A step key as words, for a plan that gives no title: "checkin_pain_day1" -> "Checkin pain day 1"."""
    words = re.sub(r"(?<=[a-z])(?=\d)", " ", key.replace("_", " ")).split()
    return " ".join(words).capitalize()


def parse_care_plan(data: Mapping[str, Any], *, source: str) -> CarePlan:
    """Build a CarePlan from a parsed TOML/YAML document; InvalidCarePlan names the problem."""

    def fail(msg: str) -> InvalidCarePlan:
        return InvalidCarePlan(f"{source}: {msg}")

    procedure = data.get("procedure")
    if not isinstance(procedure, str) or not _KEY.match(procedure):
        raise fail('"procedure" must be a lowercase key such as "kyphoplasty"')
    languages = tuple(data.get("languages") or ())
    if not languages or not all(isinstance(x, str) for x in languages):
        raise fail('"languages" must list at least one language code, e.g. ["en", "es"]')
    title = dict(data.get("title") or {})
    if set(languages) - set(title):
        raise fail(f'"title" needs an entry for each language: {", ".join(languages)}')
    variables = {str(k): str(v) for k, v in (data.get("variables") or {}).items()}
    sms_segments = {str(k): int(v) for k, v in (data.get("sms_segments") or {}).items()}
    raw_codes = data.get("codes") or {}
    if not isinstance(raw_codes, dict) or not all(
        isinstance(v, list) and all(isinstance(c, str) for c in v) for v in raw_codes.values()
    ):
        raise fail(
            '"codes" maps a coding system to a list of codes, e.g. {"http://www.ama-assn.org/go/cpt" = ["22513"]}'
        )
    codes = {str(system): tuple(v) for system, v in raw_codes.items()}
    duration_days = data.get("duration_days", 90)
    if not isinstance(duration_days, int) or duration_days <= 0:
        raise fail('"duration_days" must be a positive whole number')

    facts = _parse_facts(data.get("facts") or {}, languages, fail)
    steps: list[PlanStep] = []
    for i, raw in enumerate(data.get("steps") or (), start=1):
        steps.append(_parse_step(raw, variables, lambda m, i=i: fail(f"step {i}: {m}")))
    if not steps:
        raise fail("the plan has no steps")
    caregiver_facts = _parse_facts(data.get("caregiver_facts") or {}, languages, fail)
    caregiver_steps = _caregiver_steps(data, variables, fail)
    keys = [s.key for s in (*steps, *caregiver_steps)]
    if dupes := sorted({k for k in keys if keys.count(k) > 1}):
        raise fail(f"step keys must be unique: {', '.join(dupes)}")
    for s in steps:
        if unknown := sorted(set(s.facts) - set(facts)):
            raise fail(f"{s.key}: facts not declared in [facts]: {', '.join(unknown)}")
    for s in caregiver_steps:
        if unknown := sorted(set(s.facts) - set(facts) - set(caregiver_facts)):
            raise fail(f"{s.key}: facts not declared in [facts] or [caregiver_facts]: {unknown}")
    catch_up = data.get("catch_up_facts") or []
    if not isinstance(catch_up, list) or not all(f in facts for f in catch_up):
        raise fail('"catch_up_facts" must list facts declared in [facts]')
    lists, call_words = _parse_warning_lists(data.get("warning_lists") or {}, languages, fail)
    raw_now = data.get("now_words")
    now_words = _language_patterns(raw_now, languages, "now_words", fail) if raw_now else {}
    return CarePlan(
        procedure=procedure,
        languages=languages,
        duration_days=duration_days,
        title=title,
        steps=tuple(steps),
        variables=variables,
        sms_segments=sms_segments,
        codes=codes,
        facts=facts,
        caregiver_steps=caregiver_steps,
        caregiver_facts=caregiver_facts,
        catch_up_facts=tuple(catch_up),
        warning_lists=lists,
        call_words=call_words,
        now_words=now_words,
    )


WARNING_LISTS = ("call_911", "call_clinic")


def _language_patterns(
    raw: Any, languages: tuple[str, ...], what: str, fail: Callable[[str], InvalidCarePlan]
) -> dict[str, str]:
    """A pattern per language, every plan language present, each a valid expression."""
    if not isinstance(raw, dict):
        raise fail(f'"{what}" maps each language to a pattern')
    if missing := [lang for lang in languages if not isinstance(raw.get(lang), str)]:
        raise fail(f"{what}: no pattern for {', '.join(missing)}")
    for lang, pattern in raw.items():
        try:
            re.compile(pattern)
        except re.error as exc:
            raise fail(f"{what} ({lang}): bad pattern: {exc}") from None
    return {str(k): str(v) for k, v in raw.items()}


def _parse_warning_lists(
    raw: Any, languages: tuple[str, ...], fail: Callable[[str], InvalidCarePlan]
) -> tuple[dict[str, dict[str, dict[str, str]]], dict[str, str]]:
    """`[warning_lists]`: call_words, and the signs of each list (see CarePlan.warning_lists)."""
    if not isinstance(raw, dict):
        raise fail('"warning_lists" holds call_words, call_911 and call_clinic')
    if not raw:
        return {}, {}
    if unknown := sorted(set(raw) - {"call_words", *WARNING_LISTS}):
        raise fail(f"warning_lists: unknown {', '.join(unknown)}; use {', '.join(WARNING_LISTS)}")
    call_words = _language_patterns(raw.get("call_words"), languages, "call_words", fail)
    lists: dict[str, dict[str, dict[str, str]]] = {}
    for name in WARNING_LISTS:
        signs = raw.get(name)
        if not isinstance(signs, dict) or not signs:
            raise fail(f"warning_lists.{name}: list at least one sign")
        lists[name] = {
            str(sign): _language_patterns(p, languages, f"warning_lists.{name}.{sign}", fail)
            for sign, p in signs.items()
        }
    return lists, call_words


def _caregiver_steps(
    data: Mapping[str, Any], variables: Mapping[str, str], fail: Callable[[str], InvalidCarePlan]
) -> tuple[PlanStep, ...]:
    """`[[caregiver_steps]]`: keys start with "caregiver_" (their own templates); no check-ins."""
    out = []
    for i, raw in enumerate(data.get("caregiver_steps") or (), start=1):
        step = _parse_step(raw, variables, lambda m, i=i: fail(f"caregiver step {i}: {m}"))
        if not step.key.startswith("caregiver_"):
            raise fail(f'caregiver step {i}: its key must start with "caregiver_"')
        if step.checkin:
            raise fail(f"{step.key}: a caregiver is never asked check-in questions")
        if "sms_only" in step.only_if:
            raise fail(f"{step.key}: only_if sms_only is for the patient's text-only track")
        out.append(step)
    return tuple(out)


def _parse_facts(
    raw: Any, languages: tuple[str, ...], fail: Callable[[str], InvalidCarePlan]
) -> dict[str, dict[str, str]]:
    if not isinstance(raw, dict):
        raise fail('"facts" maps a fact name to a pattern per language')
    facts: dict[str, dict[str, str]] = {}
    for name, patterns in raw.items():
        if not _FACT.match(name) or not isinstance(patterns, dict):
            raise fail(f"fact {name!r}: use [facts.{name}] with a pattern per language")
        if missing := [lang for lang in languages if not isinstance(patterns.get(lang), str)]:
            raise fail(f"fact {name}: no pattern for {', '.join(missing)}")
        for lang, pattern in patterns.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise fail(f"fact {name} ({lang}): bad pattern: {exc}") from None
        facts[name] = {str(k): str(v) for k, v in patterns.items()}
    return facts


def _parse_step(raw: Mapping[str, Any], variables: Mapping[str, str], fail: Any) -> PlanStep:
    key = raw.get("key")
    if not isinstance(key, str) or not _KEY.match(key):
        raise fail('"key" must be lowercase letters, digits and _')
    category = raw.get("category")
    if category not in CATEGORIES:
        raise fail(f"{key}: category {category!r} is not one of {', '.join(sorted(CATEGORIES))}")
    at_text = str(raw.get("at", ""))
    try:
        at_resolved = at_text.format_map(variables)
    except KeyError as exc:
        raise fail(f'{key}: "at" uses an unknown variable {exc}') from None
    try:
        when = parse_step_time(at_resolved)
        stale = parse_duration(str(raw["stale_after"])) if "stale_after" in raw else None
    except ValueError as exc:
        raise fail(f"{key}: {exc}") from None
    try:
        channels = tuple(Channel(c) for c in raw.get("channels", ("sms", "email")))
    except ValueError:
        raise fail(f'{key}: channels must be "sms" and/or "email"') from None
    if not channels:
        raise fail(f"{key}: a step needs at least one channel")
    raw_only_if = raw.get("only_if") or ()
    only_if = (raw_only_if,) if isinstance(raw_only_if, str) else tuple(raw_only_if)
    if not all(c in CONDITIONS for c in only_if):
        raise fail(f"{key}: only_if must be one or a list of {', '.join(CONDITIONS)}")
    checkin = raw.get("checkin")
    if checkin is not None and checkin not in CHECKINS:
        raise fail(f"{key}: checkin must be one of {', '.join(sorted(CHECKINS))}")
    facts = raw.get("facts") or ()
    if not isinstance(facts, list | tuple) or not all(isinstance(f, str) for f in facts):
        raise fail(f"{key}: facts must be a list of fact names")
    titles = _step_titles(raw.get("title"), lambda m: fail(f"{key}: {m}"))
    segments = raw.get("sms_segments")
    if segments is not None and (not isinstance(segments, int) or not 1 <= segments <= 3):
        raise fail(f"{key}: sms_segments must be 1, 2 or 3 (a step's own SMS budget)")
    catch_up = raw.get("catch_up", False)
    if not isinstance(catch_up, bool):
        raise fail(f"{key}: catch_up must be true or false")
    try:
        enrolled_after = (
            parse_duration(str(raw["only_if_enrolled_after"]))
            if "only_if_enrolled_after" in raw
            else None
        )
    except ValueError as exc:
        raise fail(f"{key}: only_if_enrolled_after: {exc}") from None
    return PlanStep(
        key=key,
        title=titles.get("en") or readable_key(key),
        titles=titles,
        category=category,
        time=when,
        at_text=at_resolved,
        stale_after=stale or DEFAULT_STALE_AFTER,
        channels=channels,
        only_if=only_if,
        checkin=checkin,
        facts=tuple(facts),
        sms_segments=segments,
        catch_up=catch_up,
        enrolled_after=enrolled_after,
    )


def _step_titles(raw: Any, fail: Callable[[str], InvalidCarePlan]) -> dict[str, str]:
    """`title = "..."` (English) or `title = { en = "...", es = "..." }`, by language."""
    if raw is None:
        return {}
    by_language = {"en": raw} if isinstance(raw, str) else raw
    if not isinstance(by_language, dict) or not all(
        isinstance(v, str) and v.strip() for v in by_language.values()
    ):
        raise fail('"title" must be a short text for staff, or one per language')
    return {str(k): v.strip() for k, v in by_language.items()}
