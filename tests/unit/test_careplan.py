"""Care plans from plain data: parsed, malformed plans named with file and step, step times."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from reminders.domain.errors import InvalidCarePlan
from reminders.domain.model import Channel, ProcedureRecord
from reminders.domain.planning.careplan import (
    DEFAULT_STALE_AFTER,
    STAFF_LANGUAGES,
    missing_titles,
    parse_care_plan,
)

LA = ZoneInfo("America/Los_Angeles")


def plan_data(*steps, **extra):
    data = {
        "procedure": "p",
        "languages": ["en", "es"],
        "title": {"en": "p", "es": "p"},
        "steps": list(steps) or [{"key": "a", "category": "rest", "at": "+1h"}],
    }
    data.update(extra)
    return data


def test_a_whole_plan_is_read_with_its_defaults_and_its_choices():
    plan = parse_care_plan(
        plan_data(
            {"key": "first", "category": "first_hours", "at": "+2h"},
            {
                "key": "pain",
                "category": "checkin",
                "at": "day 1 at 09:00",
                "channels": ["sms"],
                "checkin": "pain",
                "stale_after": "6h",
                "only_if": "multilevel",
            },
            sms_segments={"es": 3},
            codes={"http://www.ama-assn.org/go/cpt": ["22513", "22514"]},
            duration_days=30,
        ),
        source="p.toml",
    )
    assert plan.procedure == "p"
    assert plan.languages == ("en", "es")
    assert plan.duration == timedelta(days=30)
    assert [s.key for s in plan.steps] == ["first", "pain"]
    first, pain = plan.steps
    assert first.channels == (Channel.SMS, Channel.EMAIL)
    assert first.stale_after == DEFAULT_STALE_AFTER
    assert first.only_if == () and first.checkin is None
    assert pain.channels == (Channel.SMS,)
    assert pain.stale_after == timedelta(hours=6)
    assert (pain.checkin, pain.only_if) == ("pain", ("multilevel",))
    assert plan.step("pain") is pain
    with pytest.raises(KeyError):
        plan.step("nope")
    assert plan.segment_budget("es") == 3
    assert plan.segment_budget("en") == 1  # one segment unless the plan says more
    assert plan.codes == {"http://www.ama-assn.org/go/cpt": ("22513", "22514")}


def test_a_plan_lasts_90_days_unless_it_says_otherwise():
    assert parse_care_plan(plan_data(), source="p.toml").duration_days == 90


@pytest.mark.parametrize(
    "bad",
    [
        {"procedure": "Bad Name"},
        {"languages": []},
        {"title": {}},
        {"steps": [{"key": "a", "category": "nonsense", "at": "+1h"}]},
        {"steps": [{"key": "a", "category": "rest", "at": "whenever"}]},
        {"steps": [{"key": "a", "category": "rest", "at": "day {nope} at 09:00"}]},
        {"steps": [{"key": "a", "category": "rest", "at": "+1h", "channels": ["fax"]}]},
        {"steps": [{"key": "a", "category": "rest", "at": "+1h", "checkin": "mood"}]},
        {"steps": [{"key": "a", "category": "rest", "at": "+1h"}] * 2},
        {"steps": [{"key": "a", "category": "rest", "at": "+1h", "only_if": ["sms_only", "x"]}]},
        {"steps": [{"key": "a", "category": "rest", "at": "+1h", "facts": ["undeclared"]}]},
        {"facts": {"fever": {"en": "fever ("}}},  # a pattern that does not compile
        {"facts": {"fever": {"es": "fiebre"}}},  # no pattern for a language of the plan
    ],
)
def test_malformed_plans_name_the_problem(bad):
    data = {
        "procedure": "p",
        "languages": ["en"],
        "title": {"en": "p"},
        "steps": [{"key": "a", "category": "rest", "at": "+1h"}],
        **bad,
    }
    with pytest.raises(InvalidCarePlan, match=r"^plan\.toml: "):
        parse_care_plan(data, source="plan.toml")


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ({"key": "Bad Key", "category": "rest", "at": "+1h"}, '"key" must be lowercase'),
        ({"key": "b", "category": "nonsense", "at": "+1h"}, "b: category 'nonsense' is not one"),
        ({"key": "b", "category": "rest", "at": "whenever"}, "b: 'whenever' is not a step time"),
        ({"key": "b", "category": "rest", "at": "day 1 at 25:00"}, "is not a time of day"),
        ({"key": "b", "category": "rest", "at": "day {x} at 09:00"}, "unknown variable 'x'"),
        ({"key": "b", "category": "rest", "at": "+1h", "stale_after": "soon"}, "not a duration"),
        ({"key": "b", "category": "rest", "at": "+1h", "channels": ["fax"]}, '"sms" and/or'),
        ({"key": "b", "category": "rest", "at": "+1h", "channels": []}, "at least one channel"),
        ({"key": "b", "category": "rest", "at": "+1h", "only_if": "monday"}, "only_if must be"),
        ({"key": "b", "category": "rest", "at": "+1h", "checkin": "mood"}, "checkin must be"),
    ],
)
def test_a_wrong_step_is_named_with_the_file_its_number_and_its_key(step, message):
    data = plan_data({"key": "a", "category": "rest", "at": "+1h"}, step)
    with pytest.raises(InvalidCarePlan) as info:
        parse_care_plan(data, source="config/care_plans/p.toml")
    assert info.value.message.startswith("config/care_plans/p.toml: step 2: ")
    assert message in info.value.message
    assert info.value.field is None  # the file is at fault, not a form field


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": {"en": "p"}}, '"title" needs an entry for each language: en, es'),
        ({"duration_days": 0}, '"duration_days" must be a positive whole number'),
        ({"duration_days": "90"}, '"duration_days" must be a positive whole number'),
        (
            {"codes": {"cpt": "22513"}},
            '"codes" maps a coding system to a list of codes, e.g.'
            ' {"http://www.ama-assn.org/go/cpt" = ["22513"]}',
        ),
        ({"steps": []}, "the plan has no steps"),
        (
            {"steps": [{"key": "a", "category": "rest", "at": "+1h"}] * 2},
            "step keys must be unique: a",
        ),
    ],
)
def test_a_wrong_plan_says_what_to_write(change, message):
    with pytest.raises(InvalidCarePlan) as info:
        parse_care_plan(plan_data(**change), source="p.toml")
    assert info.value.message == f"p.toml: {message}"


def test_plan_variables_fill_step_times():
    data = plan_data({"key": "a", "category": "rest", "at": "day {followup_day} at 10:00"})
    plan = parse_care_plan({**data, "variables": {"followup_day": 10}}, source="test")
    assert plan.steps[0].time.day == 10
    assert plan.steps[0].at_text == "day 10 at 10:00"  # shown to staff as resolved


def test_step_times_resolve_after_the_procedure_or_on_a_local_day():
    plan = parse_care_plan(
        plan_data(
            {"key": "soon", "category": "rest", "at": "+90m"},
            {"key": "later", "category": "rest", "at": "day 1 at 09:00"},
        ),
        source="p.toml",
    )
    # 23:30 on Saturday 7 March in Los Angeles; the clocks go forward that night.
    performed = datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert plan.step("soon").time.resolve(performed, LA) == datetime(2026, 3, 8, 9, 0, tzinfo=UTC)
    # Day 1 is Sunday, already on daylight time: 09:00 PDT is 16:00 UTC, not 17:00.
    later = plan.step("later").time.resolve(performed, LA)
    assert later == datetime(2026, 3, 8, 16, 0, tzinfo=UTC)
    assert later.astimezone(LA).hour == 9


@pytest.mark.parametrize(
    ("only_if", "levels", "overnight", "applies"),
    [
        (None, 1, False, True),
        ("overnight", 1, True, True),
        ("overnight", 1, False, False),
        ("same_day", 1, False, True),
        ("same_day", 1, True, False),
        ("multilevel", 2, False, True),
        ("multilevel", 1, False, False),
        ("single_level", 1, False, True),
        ("single_level", 3, False, False),
    ],
)
def test_conditions_pick_the_steps_for_this_procedure(only_if, levels, overnight, applies):
    step = {"key": "a", "category": "rest", "at": "+1h"}
    if only_if:
        step["only_if"] = only_if
    plan = parse_care_plan(plan_data(step), source="p.toml")
    record = ProcedureRecord("p", datetime(2026, 5, 4, tzinfo=UTC), levels, overnight)
    assert plan.steps[0].applies_to(record) is applies


def test_a_step_title_is_one_text_in_english_or_one_per_language():
    def plan(*titles):
        steps = [
            {"key": f"step{i}", "category": "rest", "at": "+2h", **({"title": t} if t else {})}
            for i, t in enumerate(titles)
        ]
        data = {"procedure": "x", "languages": ["en"], "title": {"en": "x"}, "steps": steps}
        return parse_care_plan(data, source="test")

    both = plan({"en": " Rest ", "es": "Descanso"}).steps[0]
    assert (both.title, both.title_in("en"), both.title_in("es")) == ("Rest", "Rest", "Descanso")
    english = plan("Rest").steps[0]
    assert english.title_in("es") == "Rest"  # shown in English rather than not at all
    assert plan(None).steps[0].title_in("es") == "Step 0"  # made from the key
    assert STAFF_LANGUAGES == ("en", "es")
    assert missing_titles(plan({"en": "Rest", "es": "Descanso"}, "Walk", None)) == [
        "step1: no title in es",
        "step2: no title in en",
        "step2: no title in es",
    ]
    with pytest.raises(InvalidCarePlan, match="one per language"):
        plan({"en": "Rest", "es": " "})
    with pytest.raises(InvalidCarePlan, match="one per language"):
        plan(["Rest"])


def test_catch_up_facts_mark_the_steps_a_late_enrollment_still_sends():
    facts = {"warn": {"en": "911", "es": "911"}, "ice": {"en": "ice", "es": "hielo"}}
    plan = parse_care_plan(
        plan_data(
            {"key": "first", "category": "warning_signs", "at": "+2h", "facts": ["warn"]},
            {"key": "icing", "category": "icing", "at": "+3h", "facts": ["ice"]},
            {"key": "rest", "category": "rest", "at": "+4h"},
            facts=facts,
            catch_up_facts=["warn"],
        ),
        source="p.toml",
    )
    assert plan.catch_up_facts == ("warn",)
    assert [s.key for s in plan.steps if plan.catches_up(s)] == ["first"]
    # None declared: nothing is caught up (a late step is skipped, as before).
    plain = parse_care_plan(plan_data(facts=facts), source="p.toml")
    assert not any(plain.catches_up(s) for s in plain.steps)


@pytest.mark.parametrize("bad", [["undeclared"], "emergency_911"])
def test_catch_up_facts_must_be_a_list_of_declared_facts(bad):
    with pytest.raises(InvalidCarePlan, match='"catch_up_facts" must list facts declared'):
        parse_care_plan(plan_data(catch_up_facts=bad), source="p.toml")


def test_the_clinics_plans_catch_up_the_911_list_and_the_fever_threshold():
    from pathlib import Path

    from reminders.adapters.care_plans import CarePlanLibrary

    plans = CarePlanLibrary(Path(__file__).resolve().parents[2] / "config" / "care_plans")
    for name in plans.names():
        plan = plans.get(name)
        assert plan.catch_up_facts == ("emergency_911", "fever_call")
        caught = {s.key for s in (*plan.steps, *plan.caregiver_steps) if plan.catches_up(s)}
        assert {"first_text_same_day", "warning_signs", "caregiver_first_day"} <= caught
