"""Warning signs in a patient's own words: by concept, with a severity, the worst first."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from reminders.domain.inbound.danger import Level, danger, read_danger


@pytest.mark.parametrize(
    ("text", "concept", "level"),
    [
        # The misses, each a class of reply rather than a phrase.
        ("mi mama no puede respirar", "breathing", Level.EMERGENCY),
        ("my mom cant breathe good", "breathing", Level.EMERGENCY),
        ("cant breath", "breathing", Level.EMERGENCY),
        ("ya no siento mis piernas", "legs", Level.EMERGENCY),
        ("no aguanto la orina, me orine encima", "bladder", Level.EMERGENCY),
        ("mi papa esta confundido no sabe donde esta", "confusion", Level.EMERGENCY),
        ("no chest pain just pressure", "chest", Level.EMERGENCY),
        ("no puedo orinar", "bladder", Level.EMERGENCY),
        ("my chest really hurts", "chest", Level.EMERGENCY),
        ("me duele mucho el pecho", "chest", Level.EMERGENCY),
        ("mom is very sleepy cant keep her awake", "confusion", Level.EMERGENCY),
        ("my throat is closing up", "allergic", Level.EMERGENCY),
        ("I fell", "falls", Level.CALL),
        ("me cai en el bano", "falls", Level.CALL),
        ("temp 101.8", "fever", Level.CALL),
        ("the incision is red and swollen", "wound", Level.CALL),
        ("tengo adormecimiento en la pierna", "legs", Level.CALL),
        ("my calf is swollen and hurts", "calf", Level.CALL),
        # Typos, texting spellings, repeated letters, emojis, accents, capitals.
        ("CHESSST PAINNN!!!", "chest", Level.EMERGENCY),
        ("trouble breething", "breathing", Level.EMERGENCY),
        ("tngo fibre", "fever", Level.CALL),
        ("🤒", "fever", Level.CALL),
        ("Tengo FIÉBRE", "fever", Level.CALL),
        # Temperatures as numbers, Fahrenheit or Celsius.
        ("100.4", "fever", Level.CALL),
        ("temperatura 38.5", "fever", Level.CALL),
        ("tengo 39 de fiebre", "fever", Level.CALL),
        ("101 degrees", "fever", Level.CALL),
        # Third person and caregivers.
        ("she cant move her legs", "legs", Level.EMERGENCY),
        ("mi esposo respira muy despacio", "breathing", Level.EMERGENCY),
        # An answer, then the words.
        ("No I have a fever", "fever", Level.CALL),
        ("3, but I have a fever", "fever", Level.CALL),
        ("pain 9 out of 10", "pain", Level.CALL),
    ],
)
def test_a_warning_sign_is_found_with_its_severity(text, concept, level):
    headline = read_danger(text).headline
    assert headline is not None, text
    assert (headline.concept, headline.level) == (concept, level)


@pytest.mark.parametrize(
    "text",
    [
        "no fever",
        "nada de fiebre",
        "no fever, no chills",
        "I don't have any numbness",
        "sin fiebre ni dolor de pecho",
        "no numbness, no weakness, no fever",
        "had a fever yesterday, gone now",
        "ayer tuve fiebre pero ya se me quito",
        "the redness is gone now",
        "will call if i get a fever",
        "que hago si me da fiebre?",
        "temp 98.6",
        "took my temp 37",
        "I fell asleep on the couch",
        "mom is doing fine",  # "doing" is one letter from "dying": not a typo of it
        "Yes I got the message",
        "4 NO",
        "pain 3",
        "breathing fine",
        "",
    ],
)
def test_no_warning_sign(text):
    assert read_danger(text).findings == (), read_danger(text).describe()


def test_the_most_severe_finding_is_the_headline_in_english_and_spanish():
    for text in ("I have a fever and chest pain", "tengo fiebre y dolor de pecho"):
        reading = read_danger(text)
        assert [f.concept for f in reading.findings] == ["chest", "fever"]
        assert reading.level is Level.EMERGENCY
        assert reading.describe().startswith('"') and "(911: chest); also" in reading.describe()


def test_negation_stops_at_but_pero_and_just():
    assert danger("no fever but my chest hurts") is not None
    assert danger("no tengo fiebre pero me duele el pecho") is not None
    assert read_danger("no me duele la espalda pero si el pecho").level is Level.EMERGENCY


def test_a_resolved_911_sign_still_calls_the_clinic_and_a_fall_always_does():
    assert read_danger("I passed out yesterday, fine now").level is Level.CALL
    assert read_danger("I fell last week but I'm fine now").level is Level.CALL
    assert read_danger("fever yesterday and I still have it").level is Level.CALL


PLANS = Path(__file__).parents[2] / "config" / "care_plans"
TEMPLATES = Path(__file__).parents[2] / "templates" / "messages"


@pytest.mark.parametrize("plan", sorted(p.stem for p in PLANS.glob("*.toml")))
def test_the_words_of_each_plans_own_check_in_question_are_warning_signs(plan):
    """A patient who echoes the question ("tengo adormecimiento") raises a red flag."""
    steps = tomllib.loads((PLANS / f"{plan}.toml").read_text())["steps"]
    keys = [s["key"] for s in steps if s.get("checkin") in ("warning", "pain_warning")]
    assert keys
    for key in keys:
        for language, intro in (("en", "I have "), ("es", "tengo ")):
            text = (TEMPLATES / plan / language / f"{key}.sms.j2").read_text(encoding="utf-8")
            # The question that lists the signs: the one with three or more items.
            questions = re.findall(r"(?:New |¿)([^?]*)\?", text)
            asked = next((q for q in questions if q.count(",") >= 2), None)
            assert asked, f"{plan}/{language}/{key}: no warning-sign question found"
            asked = re.sub(r",?\s*(?:YES or NO|SI o NO)$", "", asked)
            items = re.split(r",\s*|\s+or\s+|\s+o\s+|\s+u\s+", asked)
            # "or other new problem" / "u otro problema" asks for anything else: no one sign.
            signs = [w for w in items if w and not re.match(r"(?:a\s+)?(?:other|otro)\b", w)]
            assert len(signs) >= 3
            for sign in signs:
                assert read_danger(intro + sign.lower()).findings, (plan, language, sign)
