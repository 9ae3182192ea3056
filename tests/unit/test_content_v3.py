"""Care content v3 (issue 21): what a text-only patient reads on the first night, enrolled
late and in Spanish, and a templates check that finds the defects of the previous content."""

import re
import tarfile
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from reminders.adapters.care_plans import CarePlanLibrary
from reminders.adapters.rendering import MessageRenderer
from reminders.checks.template_check import check_templates
from reminders.checks.warning_lists import misplaced_signs, split_lists
from reminders.domain.errors import InvalidCarePlan
from reminders.domain.model import (
    Channel,
    Consent,
    ConsentMethod,
    MessageStatus,
    Patient,
    ProcedureRecord,
)
from reminders.domain.planning.careplan import parse_care_plan
from reminders.domain.planning.schedule import (
    CATCH_UP,
    SchedulePolicy,
    SendHistory,
    expand_care_plan,
)
from reminders.services.content import Clinic
from reminders.services.enrollments.planning import preview_plan

ROOT = Path(__file__).resolve().parents[2]
PLANS = CarePlanLibrary(ROOT / "config" / "care_plans")
RENDERER = MessageRenderer(ROOT / "templates")
CLINIC = Clinic("Dr. Taqi Spine Care", "805-242-4884")
# The content before issue 21 (kyphoplasty plan, its templates and the layouts), as it was
# at commit aab2a8b: the templates check must find its defects.
PREVIOUS = ROOT / "tests" / "support" / "content_v2.tar.gz"
NOW_WORDS = re.compile(r"(?i)\b(today|tonight|hoy|esta noche)\b")


def texts(procedure="kyphoplasty", *, at="2026-09-30T10:00", enrolled=None, language="en"):
    performed = datetime.fromisoformat(at)
    p = preview_plan(
        procedure,
        performed_at=performed,
        timezone="America/Los_Angeles",
        plans=PLANS,
        renderer=RENDERER,
        policy=SchedulePolicy(),
        clinic=CLINIC,
        language=language,
        channels=(Channel.SMS,),
        enrolled_at=datetime.fromisoformat(enrolled) if enrolled else None,
    )
    return [r for r in p.rows if r.message.status is MessageStatus.SCHEDULED]


@pytest.mark.parametrize("procedure", ["kyphoplasty", "vertebroplasty"])
@pytest.mark.parametrize("language", ["en", "es"])
def test_the_first_text_after_a_1930_procedure_goes_by_2100_with_the_spinal_emergency(
    procedure, language
):
    first = texts(procedure, at="2026-09-30T19:30", language=language)[0]
    assert first.day == 0 and first.local_time.time() <= time(21, 0), first.local_time
    emergency, _, call = first.text.partition("911")[2].partition("805-242-4884")
    if language == "en":
        assert "Legs suddenly weak or not working" in emergency
        assert "bladder or bowel" in emergency
        assert "numbness or weakness in legs, belly or buttocks" in call
    else:
        assert "Piernas de repente sin fuerza" in emergency and "orina" in emergency
        assert "Fiebre de 100.4F (38C)" in call
    assert first.size is not None and first.size.segments <= 3


@pytest.mark.parametrize("procedure", ["kyphoplasty", "vertebroplasty"])
@pytest.mark.parametrize("language", ["en", "es"])
def test_a_text_only_patient_enrolled_5_days_late_gets_driving_lifting_and_bathing_by_text(
    procedure, language
):
    sent = texts(procedure, enrolled="2026-10-05T10:00", language=language)
    caught_up = [r for r in sent if r.message.status_reason == CATCH_UP]
    assert len(caught_up) == 2 and [r.day for r in caught_up] == [5, 6]
    rules = " ".join(r.text for r in caught_up)
    words = {
        "en": ["No driving", "opioid", "Lift nothing over 10 lb", "bend or twist", "shower", "tub"],
        "es": ["No maneje", "opioides", "10 libras (4.5 kilos)", "gire la espalda", "regadera"],
    }[language]
    for word in words:
        assert word in rules, (word, rules)
    for r in caught_up:
        assert not NOW_WORDS.search(r.text), r.text


def test_a_spanish_text_gives_the_fever_in_celsius_too():
    spanish = " ".join(r.text for r in texts(language="es"))
    assert "100.4F (38C)" in spanish
    assert "SI o NO" in spanish and "paracetamol (Tylenol, Tempra)" in spanish
    assert "adelgazar" not in spanish and "tuerza" not in spanish


def test_a_sign_is_found_under_the_wrong_list_and_the_right_lists_pass():
    plan = PLANS.get("kyphoplasty")
    wrong = (
        "Call 911 right away if you have:\n- Chest pain\n\nCall us now at 805 if you have:\n"
        "- A rash, hives, or swelling of your face or throat\n- A fever of 100.4 F"
    )
    found = misplaced_signs(plan, "en", wrong)
    assert [(sign, belongs) for sign, belongs, _ in found] == [("airway_swelling", "call_911")]
    right = (
        "Call 911 for: Swollen lips, tongue or throat. Call 805 for: A new rash or hives, with"
        " no trouble breathing and no swelling of the lips, tongue or throat. A fall, even if"
        " you feel fine."
    )
    assert misplaced_signs(plan, "en", right) == []
    fever_in_911 = "Llame al 911 si tiene: Dolor de pecho. Fiebre de 100.4F (38C) o mas."
    assert [s for s, _, _ in misplaced_signs(plan, "es", fever_in_911)] == ["fever"]
    assert [w for w, _ in split_lists("no list here", plan.call_words["en"])] == []


def _previous_content(tmp_path: Path) -> tuple[Path, Path]:
    with tarfile.open(PREVIOUS) as tar:
        tar.extractall(tmp_path, filter="data")
    plan = tmp_path / "config/care_plans/kyphoplasty.toml"
    current = (ROOT / "config/care_plans/kyphoplasty.toml").read_text()
    # What the check learns as data, from today's plan: the lists, the words tied to the
    # day, and the 911 list that names the spinal emergency.
    learned = current[current.index("[warning_lists.call_words]") : current.index("[[steps]]")]
    emergency = re.search(r"\[facts\.emergency_911\]\n(#.*\n)*en = .*\nes = .*\n", current)
    assert emergency
    old = re.sub(r"\[facts\.emergency_911\]\nen = .*\nes = .*\n", "", plan.read_text())
    plan.write_text(old + "\n" + emergency.group(0) + "\n" + learned)
    return plan.parent, tmp_path / "templates"


def test_the_templates_check_fails_on_the_content_before_issue_21(tmp_path):
    plans, templates = _previous_content(tmp_path)
    problems = [
        str(p)
        for p in check_templates(
            plans=CarePlanLibrary(plans), renderer=MessageRenderer(templates), clinic=CLINIC
        )
    ]
    # The 911 list of the first text leaves out the spinal emergency.
    assert any(
        "first_text_same_day.sms.j2: tagged with the fact emergency_911 but does not say it" in p
        for p in problems
    ), problems
    # Throat swelling on the "call us" list.
    assert any(
        "warning_signs.email.j2: airway_swelling belongs to the 911 list but is under the"
        " call-the-clinic list" in p
        for p in problems
    ), problems
    # A late patient loses the care rules; the caught-up text says "today".
    assert any(
        "(en, same day, procedure at 10:00, sms, enrolled 5 days after): the patient never gets"
        in p
        and "lifting" in p
        and "no_driving" in p
        for p in problems
    ), problems
    assert any("first_text_same_day: a catch-up sms" in p and "'today'" in p for p in problems), (
        problems
    )


def test_a_plan_that_sends_late_without_now_words_is_reported(tmp_path):
    plans = tmp_path / "plans"
    plans.mkdir()
    for name in ("kyphoplasty", "vertebroplasty"):
        text = (ROOT / f"config/care_plans/{name}.toml").read_text()
        (plans / f"{name}.toml").write_text(text.replace("[now_words]", "[unused_words]"))
    found = [
        str(p)
        for p in check_templates(plans=CarePlanLibrary(plans), renderer=RENDERER, clinic=CLINIC)
    ]
    assert any("care plan kyphoplasty: sends late messages but [now_words]" in p for p in found)


def test_todays_content_passes_the_same_check():
    assert check_templates(plans=PLANS, renderer=RENDERER, clinic=CLINIC) == []


def _plan(**step):
    base = {"key": "x", "category": "activity", "at": "+1h", **step}
    return {"procedure": "p", "languages": ["en"], "title": {"en": "p"}, "steps": [base]}


def test_a_step_may_raise_its_own_sms_budget_and_catch_up_late_patients_only():
    late = _plan(sms_segments=3, catch_up=True, only_if_enrolled_after="48h")
    plan = parse_care_plan({**late, "now_words": {"en": "today"}}, source="t")
    step = plan.step("x")
    assert plan.segment_budget("en") == 1 and plan.segment_budget("en", ["x"]) == 3
    assert plan.catches_up(step)
    with pytest.raises(InvalidCarePlan, match="sms_segments must be 1, 2 or 3"):
        parse_care_plan(_plan(sms_segments=5), source="t")
    with pytest.raises(InvalidCarePlan, match="only_if_enrolled_after"):
        parse_care_plan(_plan(only_if_enrolled_after="soon"), source="t")
    with pytest.raises(InvalidCarePlan, match=r"warning_lists\.call_911"):
        parse_care_plan(
            {**_plan(), "warning_lists": {"call_words": {"en": "call"}, "call_clinic": {}}},
            source="t",
        )


def test_a_replan_of_a_patient_who_had_the_regular_texts_is_not_a_late_enrollment():
    plan = PLANS.get("kyphoplasty")
    at = datetime(2026, 9, 30, 10, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
    patient = Patient("A", "B", "+18055550100", None, "en", "America/Los_Angeles")
    consents = [Consent(Channel.SMS, True, ConsentMethod.VERBAL, "t", at)]
    procedure = ProcedureRecord("kyphoplasty", at)
    now = at + timedelta(days=5)

    def keys(history):
        planned = expand_care_plan(plan, procedure, patient, consents, now=now, history=history)
        return {m.step_key for m in planned if m.status is MessageStatus.SCHEDULED}

    assert "care_rules_late_text" in keys(SendHistory())  # enrolled 5 days late
    had = SendHistory(sent_parts=frozenset({("text_day1", Channel.SMS)}))
    assert "care_rules_late_text" not in keys(had)  # re-planned after the regular texts
