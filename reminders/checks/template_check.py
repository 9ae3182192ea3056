"""check_templates: render every care plan's templates with sample patients; list what is wrong."""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

from jinja2 import TemplateNotFound, TemplateSyntaxError, UndefinedError

from reminders.adapters.care_plans import CarePlanLibrary
from reminders.adapters.rendering import MessageRenderer
from reminders.checks.caregiver_check import caregiver_problems
from reminders.checks.fact_coverage import check_fact_coverage
from reminders.checks.journey_check import check_journeys
from reminders.checks.keyword_check import opt_out_problem, reply_problems, unhonoured_words
from reminders.checks.reading_level import reading_level_problem
from reminders.checks.warning_lists import warning_list_problems
from reminders.domain.model import Channel, Patient, ProcedureRecord
from reminders.domain.planning.careplan import CarePlan, PlanStep
from reminders.domain.planning.sms import measure, non_gsm7_characters
from reminders.services.content import Clinic, message_context

T = TypeVar("T")

EMERGENCY_LINE = "layouts/{language}/emergency.j2"
# A procedure's local date with a long month name in both languages (September, septiembre).
SAMPLE_PERFORMED_AT = datetime(2026, 9, 30, 17, 0, tzinfo=UTC)
SAMPLE_CAREGIVER = {"name": "Maximiliana", "relationship": "daughter"}
SAMPLES = [(o, lv, d) for o in (False, True) for lv in (1, 3) for d in (False, True)]


@dataclass(frozen=True)
class Problem:
    template: str  # path under the templates folder, e.g. messages/kyphoplasty/en/icing.sms.j2
    line: int | None  # None when the problem is the whole template (or its absence)
    message: str

    def __str__(self) -> str:
        where = f"{self.template}:{self.line}" if self.line else self.template
        return f"{where}: {self.message}"


def step_templates(
    plan: CarePlan, step: PlanStep, language: str, renderer: MessageRenderer
) -> list[str]:
    """Return the template names a step needs in a language, for the channels it uses."""
    kinds = (["sms"] if Channel.SMS in step.channels else []) + (
        ["subject", "email"] if Channel.EMAIL in step.channels else []
    )
    return [renderer.step_path(plan.procedure, language, step.key, k) for k in kinds]


def check_templates(
    *, plans: CarePlanLibrary, renderer: MessageRenderer, clinic: Clinic
) -> list[Problem]:
    """Render every template of every plan in every language; return each problem found."""
    checker = _Checker(renderer)
    expected: set[str] = set()
    for name in plans.names():
        plan = plans.get(name)
        for language in plan.languages:
            checker.plan(plan, language, clinic)
            for step in (*plan.steps, *plan.caregiver_steps):
                expected.update(step_templates(plan, step, language, renderer))
    for name in renderer.text_env.list_templates():
        if name.startswith("messages/") and name not in expected:
            checker.add(name, None, "unused: no care-plan step and channel uses this template")
    if not checker.problems:  # whole journeys render only once every template does
        for found in whole_journey_problems(plans=plans, renderer=renderer, clinic=clinic):
            where, _, what = found.partition(": ")
            checker.add(where, None, what)
    return list(checker.problems.values())


@dataclass(frozen=True)
class _Case:
    """One plan in one language for one sample patient."""

    plan: CarePlan
    language: str
    context: dict[str, Any]
    label: str
    emergency: str | None  # the rendered emergency line, when the plan has check-ins


class _Checker:
    def __init__(self, renderer: MessageRenderer) -> None:
        self.renderer, self.env = renderer, renderer.text_env
        self.problems: dict[tuple[Any, ...], Problem] = {}
        loader = self.env.loader
        assert loader is not None
        self.names = {loader.get_source(self.env, n)[1]: n for n in self.env.list_templates()}

    def add(self, template: str, line: int | None, message: str, *, key: Any = None) -> None:
        """Record a problem once; `key` merges the same check failing for several samples."""
        self.problems.setdefault(
            (template, key or (line, message)), Problem(template, line, message)
        )

    def plan(self, plan: CarePlan, language: str, clinic: Clinic) -> None:
        steps = [
            s for s in (*plan.steps, *plan.caregiver_steps) if self._present(plan, s, language)
        ]
        missing = f"missing: {plan.procedure} is offered in {language}, which needs this layout"
        layouts = [f"layouts/{language}/sms.j2", f"layouts/{language}/email.txt.j2"]
        if not all([self._load(name, missing) for name in layouts]):
            return
        line = EMERGENCY_LINE.format(language=language)
        needs_line = any(s.checkin for s in plan.steps)
        has_line = needs_line and self._load(line, "missing: check-ins need this emergency line")
        for label, context in _contexts(plan, language, clinic):
            emergency = (
                self._attempt(line, partial(self._emergency, line, context)) if has_line else None
            )
            case = _Case(plan, language, context, label, emergency)
            # A caregiver's templates also see `caregiver` (checks/caregiver_check.py).
            carer = replace(case, context={**context, "caregiver": SAMPLE_CAREGIVER})
            for step in steps:
                this = carer if step in plan.caregiver_steps else case
                if Channel.SMS in step.channels:
                    self._sms(this, step)
                if Channel.EMAIL in step.channels:
                    self._email(this, step)

    def _present(self, plan: CarePlan, step: PlanStep, language: str) -> bool:
        found = [
            self._load(
                name,
                f"missing: step {step.key} has no {name.split('.')[-2]} template in {language}",
            )
            for name in step_templates(plan, step, language, self.renderer)
        ]
        return all(found)

    def _load(self, name: str, missing: str) -> bool:
        try:
            self.env.get_template(name)
        except TemplateNotFound:
            self.add(name, None, missing)
            return False
        except TemplateSyntaxError as exc:
            self.add(name, exc.lineno, f"syntax error: {exc.message}")
            return False
        return True

    def _path(self, case: _Case, step: PlanStep, kind: str) -> str:
        return self.renderer.step_path(case.plan.procedure, case.language, step.key, kind)

    def _emergency(self, name: str, context: dict[str, Any]) -> str:
        line = _one_line(self.env.get_template(name).render(**context))
        if "911" not in line:
            self.add(name, None, "the emergency line must tell the patient to call 911")
        return line

    def _sms(self, case: _Case, step: PlanStep) -> None:
        plan, lang, ctx = case.plan, case.language, case.context
        name = self._path(case, step, "sms")
        body = self._attempt(
            name, lambda: self.renderer.sms_body(plan.procedure, lang, [step.key], ctx)
        )
        # As if it were the patient's first text: a late enrollment can make any text the first.
        full = self._attempt(
            name, lambda: self.renderer.sms(plan.procedure, lang, [step.key], ctx, first=True)
        )
        if body is None or full is None:
            return
        size, budget = measure(full), plan.segment_budget(lang, [step.key])
        if size.segments > budget:
            culprits = non_gsm7_characters(full)
            why = f"; UCS-2 because of {' '.join(culprits)}" if culprits else ""
            self.add(
                name,
                None,
                f"SMS is {size.segments} segments ({size.encoding}, {size.units} characters with the clinic's name and opt-out line, {case.label}); the {lang} budget is {budget}{why}",
                key="budget",
            )
        if stop := opt_out_problem(full):
            self.add(f"layouts/{lang}/sms.j2", None, stop, key="stop")
        if words := unhonoured_words(full):
            self.add(
                name,
                None,
                f"tells the patient to reply {', '.join(words)}, which no keyword honours",
                key="words",
            )
        if step.checkin and case.emergency and case.emergency not in body:
            self.add(
                name,
                None,
                f"a check-in SMS must include the emergency line: {case.emergency}",
                key="911",
            )
        if ctx["discreet"] and _names_procedure(body, plan, lang):
            self.add(
                name,
                None,
                "with discreet SMS on, an SMS must not name the procedure",
                key="discreet",
            )
        self._reading(name, body, lang)

    def _email(self, case: _Case, step: PlanStep) -> None:
        plan, lang, ctx = case.plan, case.language, case.context
        name = self._path(case, step, "email")
        body = self._attempt(name, lambda: self.env.get_template(name).render(**ctx).strip())
        email = self._attempt(
            name, lambda: self.renderer.email(plan.procedure, lang, [step.key], ctx)
        )
        if body is None or email is None:
            return
        if not email.subject:
            self.add(self._path(case, step, "subject"), None, "the email subject is empty")
        if not body or body not in email.text:
            self.add(name, None, "the email has no text part: its body renders empty", key="text")
        if step.checkin and case.emergency and case.emergency not in _one_line(email.text):
            self.add(
                name,
                None,
                f"a check-in email must include the emergency line: {case.emergency}",
                key="911",
            )
        self._reading(name, body, lang)

    def _reading(self, name: str, text: str, language: str) -> None:
        verdict = reading_level_problem(text, language)
        if verdict:
            self.add(name, None, verdict, key="reading")

    def _attempt(self, name: str, render: Callable[[], T]) -> T | None:
        """Run one render; record what went wrong, at the template and line it went wrong in."""
        try:
            return render()
        except TemplateNotFound as exc:
            self.add(name, None, f"missing: it includes {exc.name}, which does not exist")
        except TemplateSyntaxError as exc:
            where = self.names.get(exc.filename or "", name)
            self.add(where, exc.lineno, f"syntax error: {exc.message}")
        # A check reports every template: one that fails to render must not hide the rest.
        except Exception as exc:
            where, line = self._where(exc, name)
            kind = "undefined variable" if isinstance(exc, UndefinedError) else "cannot render"
            self.add(where, line, f"{kind}: {exc}")
        return None

    def _where(self, exc: BaseException, name: str) -> tuple[str, int | None]:
        """The innermost template frame of the traceback (jinja rewrites it to template lines)."""
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if frame.filename in self.names:
                return self.names[frame.filename], frame.lineno
        found = re.search(r"'(\w+)' is undefined|attribute '(\w+)'", str(exc))
        source = self.env.loader.get_source(self.env, name)[0] if self.env.loader else ""
        for number, text in enumerate(source.splitlines(), start=1):
            if found and re.search(rf"\b{found.group(1) or found.group(2)}\b", text):
                return name, number
        return name, None


def _contexts(
    plan: CarePlan, language: str, clinic: Clinic
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Sample patients that take every branch a template may have."""
    patient = Patient(
        "Maximiliano", "Sample", "+18055550100", "a@example.org", language, "America/Los_Angeles"
    )
    for overnight, levels, discreet in SAMPLES:
        procedure = ProcedureRecord(
            plan.procedure, SAMPLE_PERFORMED_AT, levels=levels, overnight=overnight
        )
        label = f"{'overnight' if overnight else 'same day'}, {levels} level(s){', discreet' if discreet else ''}"
        sample_clinic = replace(clinic, discreet_sms=discreet)
        yield (
            label,
            message_context(plan=plan, patient=patient, procedure=procedure, clinic=sample_clinic),
        )


def _names_procedure(body: str, plan: CarePlan, language: str) -> bool:
    words = {plan.procedure, plan.title.get(language, plan.procedure)}
    return any(w.lower() in body.lower() for w in words)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def whole_journey_problems(
    *, plans: CarePlanLibrary, renderer: MessageRenderer, clinic: Clinic
) -> list[str]:
    """Budgets, lists and reply words of whole journeys, essential-fact coverage, and each
    warning sign in its own list (911 or call the clinic)."""
    found = check_journeys(plans=plans, renderer=renderer, clinic=clinic)
    found += reply_problems(renderer=renderer, clinic=clinic)
    found += check_fact_coverage(plans=plans, renderer=renderer, clinic=clinic)
    found += warning_list_problems(plans=plans, renderer=renderer, clinic=clinic)
    return found + caregiver_problems(plans=plans, renderer=renderer, clinic=clinic)
