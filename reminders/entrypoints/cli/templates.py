"""`reminders templates check`: render every care plan's templates and report what is wrong."""

from __future__ import annotations

import os
import sys

import click

from reminders.adapters.care_plans import CarePlanLibrary
from reminders.adapters.rendering import MessageRenderer
from reminders.checks.keyword_check import provider_keyword_lines
from reminders.checks.template_check import check_templates, step_templates
from reminders.domain.errors import ReminderError
from reminders.domain.planning.careplan import STAFF_LANGUAGES, missing_titles
from reminders.services.content import clinic_from_settings
from reminders.settings import get_settings


@click.group()
def templates() -> None:
    """Message template commands."""


@templates.command("check")
def check() -> None:
    """Check step titles and render every message template; exit 1 on any problem."""
    # Built from settings, not bootstrap(): a lint step needs no database.
    settings = get_settings()
    try:
        plans = CarePlanLibrary(settings.care_plans_dir)
    except ReminderError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(2)
    if not plans.names():
        click.echo(f"error: no care plans in {settings.care_plans_dir}", err=True)
        sys.exit(2)
    # Staff read each step by its title, in any language the staff pages can be set to.
    untitled = [
        f"{os.path.relpath(settings.care_plans_dir)}: {name}: {missing}"
        for name in plans.names()
        for missing in missing_titles(plans.get(name))
    ]
    for line in untitled:
        click.echo(line)
    renderer = MessageRenderer(settings.templates_dir)
    clinic = clinic_from_settings(settings)
    problems = check_templates(plans=plans, renderer=renderer, clinic=clinic)
    folder = os.path.relpath(settings.templates_dir)
    for problem in problems:
        click.echo(os.path.join(folder, str(problem)))
    if untitled:
        click.echo(
            f"{len(untitled)} step(s) without a title in a staff language"
            f' ({", ".join(STAFF_LANGUAGES)}): write title = {{ en = "...", es = "..." }}',
            err=True,
        )
    if problems:
        click.echo(f"{len(problems)} problem(s) in message templates", err=True)
    if untitled or problems:
        sys.exit(1)
    all_plans = [plans.get(name) for name in plans.names()]
    names = {
        template
        for plan in all_plans
        for language in plan.languages
        for step in plan.steps
        for template in step_templates(plan, step, language, renderer)
    }
    languages = {language for plan in all_plans for language in plan.languages}
    click.echo(
        f"checked {len(names)} templates in {len(all_plans)} plans, {len(languages)} languages: OK"
    )
    for line in provider_keyword_lines(sorted(languages)):
        click.echo(line)
