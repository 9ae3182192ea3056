"""Whole-journey checks: merged texts, glued list items and essential-fact coverage."""

import re
import shutil
from pathlib import Path

from reminders.adapters.care_plans import CarePlanLibrary
from reminders.adapters.rendering import MessageRenderer
from reminders.domain.careplan import PlanStep
from reminders.domain.model import Channel, ProcedureRecord
from reminders.services.content import Clinic
from reminders.services.template_check import check_templates

ROOT = Path(__file__).resolve().parents[2]
CLINIC = Clinic("Dr. Taqi Spine Care", "805-242-4884")


def copy(tmp_path: Path) -> tuple[Path, Path]:
    plans, templates = tmp_path / "plans", tmp_path / "templates"
    shutil.copytree(ROOT / "config" / "care_plans", plans)
    shutil.copytree(ROOT / "templates", templates)
    return plans, templates


def check(plans: Path, templates: Path) -> list[str]:
    found = check_templates(
        plans=CarePlanLibrary(plans), renderer=MessageRenderer(templates), clinic=CLINIC
    )
    return [str(p) for p in found]


def test_a_list_item_glued_to_the_line_before_is_found(tmp_path):
    plans, templates = copy(tmp_path)
    wound = templates / "messages/vertebroplasty/en/wound_care.email.j2"
    # The bug of issue 12: trim_blocks ate the newline after {% endif %}.
    wound.write_text(wound.read_text().replace("{% endif +%}", "{% endif %}"))
    problems = check(plans, templates)
    assert any(
        "vertebroplasty/en/wound_care" in p and "list item runs into" in p for p in problems
    ), problems


def test_a_text_only_patient_missing_a_fact_is_found(tmp_path):
    plans, templates = copy(tmp_path)
    plan = plans / "kyphoplasty.toml"
    text = plan.read_text()
    # Untag the day-1 text-only step: a text-only patient no longer learns about driving.
    plan.write_text(
        text.replace('facts = ["no_driving", "lifting", "ice", "pain_medicine"]', "facts = []")
    )
    problems = check(plans, templates)
    assert any(
        re.search(r"kyphoplasty \(en, same day.*sms\).*never gets.*no_driving", p) for p in problems
    ), problems
    assert not any("email): the patient never gets" in p for p in problems), problems


def test_a_tagged_text_that_does_not_say_its_fact_is_found(tmp_path):
    plans, templates = copy(tmp_path)
    sms = templates / "messages/kyphoplasty/es/text_day1.sms.j2"
    sms.write_text(sms.read_text().replace("No maneje", "Descanse"))
    problems = check(plans, templates)
    assert any(
        "kyphoplasty/es/text_day1.sms.j2: tagged with the fact no_driving" in p for p in problems
    )


def test_a_text_that_names_an_unhonoured_reply_word_is_found(tmp_path):
    plans, templates = copy(tmp_path)
    layout = templates / "layouts/es/sms.j2"
    layout.write_text(layout.read_text().replace("responda PARAR", "responda CANCELE"))
    problems = check(plans, templates)
    assert any("CANCELE" in p for p in problems), problems
    assert any("opt out" in p for p in problems), problems


def test_the_real_plans_have_no_journey_problems():
    assert check(ROOT / "config" / "care_plans", ROOT / "templates") == []


def test_sms_only_steps_apply_only_without_email():
    plan = CarePlanLibrary(ROOT / "config" / "care_plans").get("kyphoplasty")
    step: PlanStep = plan.step("text_day1")
    procedure = ProcedureRecord(
        "kyphoplasty",
        __import__("datetime").datetime(2026, 9, 30, 17, 0, tzinfo=__import__("datetime").UTC),
    )
    assert step.applies_to(procedure, {Channel.SMS})
    assert not step.applies_to(procedure, {Channel.SMS, Channel.EMAIL})
    assert not step.applies_to(procedure, {Channel.EMAIL})
    assert step.applies_to(procedure) is False  # default: both channels
