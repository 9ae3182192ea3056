"""Whole-journey checks: merged texts, glued list items and essential-fact coverage."""

import re
import shutil
from pathlib import Path

from reminders.adapters.care_plans import CarePlanLibrary
from reminders.adapters.rendering import MessageRenderer
from reminders.checks.template_check import check_templates
from reminders.domain.model import Channel, ProcedureRecord
from reminders.domain.planning.careplan import PlanStep
from reminders.services.content import Clinic

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
    plan.write_text(text.replace('facts = ["no_driving", "pain_medicine", "ice"]', "facts = []"))
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


def test_a_three_segment_merged_text_is_found(tmp_path):
    plans, templates = copy(tmp_path)
    sms = templates / "messages/kyphoplasty/es/text_day1.sms.j2"
    # Alone, even as a first text with the opt-out line, this step fits its 3 segments;
    # merged with the day-1 check-in of a text-only patient it makes a 4-segment text.
    sms.write_text(sms.read_text().strip() + " Descanse hoy y camine un poco cada hora.\n")
    problems = check(plans, templates)
    assert not any("es/text_day1.sms.j2: SMS is" in p for p in problems), problems
    merged = [p for p in problems if "kyphoplasty/es/text_day1+checkin_pain_day1" in p]
    assert merged and "is 4 segments" in merged[0] and "budget is 3" in merged[0], problems
    assert "sms)" in merged[0]  # a text-only patient's journey


def test_a_spanish_text_in_ucs2_for_an_accent_is_found(tmp_path):
    plans, templates = copy(tmp_path)
    sms = templates / "messages/kyphoplasty/es/followup_visit.sms.j2"
    sms.write_text(sms.read_text().replace("seguimiento", "seguimiento (revisión)"))
    problems = check(plans, templates)
    assert any(
        "kyphoplasty/es/followup_visit" in p and "UCS-2 because of ó" in p for p in problems
    ), problems


def test_ucs2_that_the_language_needs_is_not_reported():
    from reminders.checks.journey_check import avoidable_ucs2

    assert avoidable_ucs2("Su cita: día 10") == ["í"]
    assert avoidable_ucs2("\u201cHello\u201d") == ["\u201c", "\u201d"]
    assert avoidable_ucs2("Su cita: dia 10, mañana") == []  # ñ is GSM-7
    assert avoidable_ucs2("\u4f60\u597d, día 10") == []  # another script needs UCS-2


def test_a_plan_that_loses_the_warning_signs_to_a_late_enrollment_is_found(tmp_path):
    plans, templates = copy(tmp_path)
    plan = plans / "kyphoplasty.toml"
    # The defect of a late enrollment: without catch-up facts the day-0 warning text and
    # email are skipped as stale, and the day-1 text becomes the first, 3 segments long.
    plan.write_text(plan.read_text().replace("catch_up_facts = ", "# catch_up_facts = "))
    problems = check(plans, templates)
    for late in ("30 h after", "5 days after"):
        for mix in ("sms", "email", "both"):
            for language in ("en", "es"):
                patient = f"kyphoplasty ({language}, same day, procedure at 10:00, {mix}"
                assert any(
                    f"{patient}, enrolled {late}): the patient never gets emergency_911" in p
                    for p in problems
                ), (late, mix, language, problems)
                assert any(
                    f"({language}, same day, procedure at 10:00, caregiver by {mix}, enrolled {late})"
                    ": the caregiver never gets emergency_911" in p
                    for p in problems
                ), (late, mix, language, problems)
    over = [p for p in problems if "text_day1+checkin_pain_day1" in p and "enrolled 30 h" in p]
    assert over and "is 4 segments" in over[0], problems
    assert not any("vertebroplasty" in p for p in problems), problems


def test_a_late_journey_says_how_late_in_hours_then_days():
    from datetime import timedelta

    from reminders.checks.journey_check import lateness_words

    assert lateness_words(timedelta(0)) == ""
    assert lateness_words(timedelta(hours=30)) == ", enrolled 30 h after"
    assert lateness_words(timedelta(days=5)) == ", enrolled 5 days after"
