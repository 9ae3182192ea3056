"""Caregiver journeys in `templates check` (checks/caregiver_check.py): facts and budgets."""

from __future__ import annotations

import shutil
from pathlib import Path

from reminders.adapters.care_plans import CarePlanLibrary
from reminders.adapters.rendering import MessageRenderer
from reminders.checks.caregiver_check import caregiver_problems, required_facts
from reminders.services.content import Clinic

ROOT = Path(__file__).resolve().parents[2]
PLANS = CarePlanLibrary(ROOT / "config" / "care_plans")
CLINIC = Clinic("Dr. Taqi Spine Care", "805-242-4884")


def copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    return tmp_path / "templates"


def test_the_clinics_caregiver_texts_carry_the_911_and_call_the_clinic_lists():
    renderer = MessageRenderer(ROOT / "templates")
    assert caregiver_problems(plans=PLANS, renderer=renderer, clinic=CLINIC) == []
    assert required_facts(PLANS.get("kyphoplasty")) == {"emergency_911", "call_clinic"}


def test_a_caregiver_text_without_the_911_list_is_named(tmp_path):
    templates = copy(tmp_path)
    path = templates / "messages/kyphoplasty/es/caregiver_first_day.sms.j2"
    path.write_text(
        "{{ caregiver.name }}: acompañe a {{ patient.first_name }}. Fiebre de {{ v.fever_f }}F? Llame.\n"
    )
    problems = caregiver_problems(plans=PLANS, renderer=MessageRenderer(templates), clinic=CLINIC)
    assert any(
        "caregiver_first_day.sms.j2: tagged with the fact emergency_911 but does not say it" in p
        for p in problems
    )
    assert any(
        "kyphoplasty (es, same day, procedure at 10:00, caregiver by sms): the caregiver never"
        " gets emergency_911" in p
        for p in problems
    )


def test_a_caregiver_text_over_its_budget_is_named(tmp_path):
    templates = copy(tmp_path)
    path = templates / "messages/vertebroplasty/en/caregiver_red_flags.sms.j2"
    path.write_text(path.read_text() + " Please read this again." * 8)
    problems = caregiver_problems(plans=PLANS, renderer=MessageRenderer(templates), clinic=CLINIC)
    assert any("caregiver_red_flags.sms.j2: the caregiver's text is" in p for p in problems)
