"""The care-plan library: config/care_plans read once, procedures found by name or EHR code."""

from pathlib import Path

import pytest

from reminders.adapters.care_plans import CarePlanLibrary
from reminders.domain.errors import InvalidCarePlan, UnknownProcedure
from reminders.domain.planning.careplan import missing_titles

ROOT = Path(__file__).resolve().parents[2]
PLANS = CarePlanLibrary(ROOT / "config" / "care_plans")
CPT = "http://www.ama-assn.org/go/cpt"
SMALL = """
procedure = "{name}"
languages = ["en"]
[title]
en = "{name}"
[[steps]]
key = "rest"
category = "rest"
at = "+2h"
"""


def folder_with(tmp_path: Path, **files: str) -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_the_clinics_plans_load_and_are_found_by_name_as_typed():
    assert PLANS.names() == ["kyphoplasty", "vertebroplasty"]
    plan = PLANS.get("  Kyphoplasty ")
    assert plan.procedure == "kyphoplasty"
    assert set(plan.languages) == {"en", "es"}
    assert plan.steps, "a plan with no steps would send nothing"


def test_an_unknown_procedure_lists_the_known_ones():
    with pytest.raises(UnknownProcedure) as info:
        PLANS.get("laminectomy")
    assert info.value.message == (
        "no care plan for 'laminectomy'; known procedures: kyphoplasty, vertebroplasty"
    )
    assert info.value.field == "procedure"


def test_an_empty_folder_says_where_it_looked(tmp_path):
    with pytest.raises(UnknownProcedure) as info:
        CarePlanLibrary(tmp_path).get("kyphoplasty")
    assert f"known procedures: none (no plans in {tmp_path})" in info.value.message


def test_an_ehr_code_finds_its_procedure_and_an_unknown_one_nothing():
    assert PLANS.by_code(CPT, "22513") == "kyphoplasty"
    assert PLANS.by_code(CPT, "22510") == "vertebroplasty"
    assert PLANS.by_code(CPT, "99999") is None
    assert PLANS.by_code("http://snomed.info/sct", "22513") is None  # the system counts
    assert f"{CPT}|22513" in PLANS.known_codes()
    assert PLANS.known_codes() == sorted(PLANS.known_codes())


def test_only_toml_files_are_plans(tmp_path):
    folder = folder_with(
        tmp_path, **{"rest.toml": SMALL.format(name="rest"), "README.md": "not a plan"}
    )
    assert CarePlanLibrary(folder).names() == ["rest"]


def test_a_file_that_is_not_toml_is_named(tmp_path):
    folder = folder_with(tmp_path, **{"broken.toml": 'procedure = "broken'})
    with pytest.raises(InvalidCarePlan) as info:
        CarePlanLibrary(folder)
    assert info.value.message.startswith(f"{folder / 'broken.toml'}: not valid TOML: ")


def test_a_plan_whose_name_differs_from_its_file_is_refused(tmp_path):
    folder = folder_with(tmp_path, **{"fusion.toml": SMALL.format(name="kyphoplasty")})
    with pytest.raises(InvalidCarePlan) as info:
        CarePlanLibrary(folder)
    assert info.value.message == (
        f"{folder / 'fusion.toml'}: procedure 'kyphoplasty' must match the file name"
    )


def test_a_wrong_step_in_a_file_is_named_with_the_path_and_the_step(tmp_path):
    text = SMALL.format(name="rest").replace('at = "+2h"', 'at = "after lunch"')
    folder = folder_with(tmp_path, **{"rest.toml": text})
    with pytest.raises(InvalidCarePlan) as info:
        CarePlanLibrary(folder)
    assert info.value.message.startswith(f"{folder / 'rest.toml'}: step 1: rest: 'after lunch'")


def test_every_step_of_the_clinics_plans_has_a_title_in_each_staff_language():
    for name in PLANS.names():
        assert missing_titles(PLANS.get(name)) == [], name
        plan = PLANS.get(name)
        assert plan.step("checkin_pain_day1").title_in("es") == "Control: nivel de dolor, día 1"
