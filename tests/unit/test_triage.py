"""One decision per reply: the answer to record, the red flag, and whether staff must read it."""

from __future__ import annotations

import pytest

from reminders.domain.inbound.danger import Level
from reminders.domain.inbound.replies import (
    PAIN,
    PAIN_WARNING,
    WARNING,
    Action,
    both_halves,
    parse_answer,
    remaining_half,
)
from reminders.domain.inbound.triage import triage


def decide(text, open_checkin=PAIN_WARNING, previous_pain=None):  # type: ignore[no-untyped-def]
    return triage(text, open_checkin=open_checkin, opted_out=False, previous_pain=previous_pain)


@pytest.mark.parametrize("text", ["Yes I got the message", "si gracias ya recibi el mensaje"])
@pytest.mark.parametrize("kind", [WARNING, PAIN_WARNING])
def test_a_yes_that_means_received_is_not_a_warning_sign_yes_and_staff_see_it(text, kind):
    got = decide(text, kind)
    assert got.flag is None and got.answer is None and got.needs_staff
    assert got.intent.action is Action.UNCLEAR


@pytest.mark.parametrize(
    "text", ["mi mama no puede respirar", "no puedo orinar", "no chest pain just pressure"]
)
def test_a_no_beside_words_of_danger_is_a_red_flag_not_a_no(text):
    got = decide(text, WARNING)
    assert got.level is Level.EMERGENCY and got.answer is None


def test_a_mild_pain_with_a_fever_records_the_pain_and_raises_the_flag():
    got = decide("3, but I have a fever")
    assert got.answer is not None and got.answer.pain == 3
    assert got.flag == 'answered 3 and wrote "fever" in a text (call: fever)'
    assert got.level is Level.CALL


def test_a_red_flag_answer_with_911_words_is_headed_by_the_911_words():
    got = decide("9 yes and I cant breathe")
    assert got.level is Level.EMERGENCY
    assert got.flag and got.flag.startswith('wrote "cant breathe"'.replace("cant", "cannot"))


def test_half_an_answer_is_partial_and_shown_to_staff_the_other_half_completes_it():
    first = decide("7")
    assert first.partial and first.needs_staff and first.flag is None
    rest = remaining_half(first.answer.text)  # type: ignore[union-attr]
    assert rest == WARNING
    later = decide("YES", rest)
    assert later.intent.action is Action.ANSWER and later.flag and later.level is Level.CALL
    assert both_halves("7", later.answer) == "7 yes"  # type: ignore[arg-type]
    assert remaining_half("no") == PAIN
    assert both_halves("no", parse_answer(PAIN, "4/10")) == "4 no"  # type: ignore[arg-type]


def test_a_clean_complete_answer_needs_nobody():
    for text in ("4 NO", "No, 3", "pain is 2, no thanks", "dolor 4, no gracias"):
        got = decide(text)
        assert got.answer is not None and not got.needs_staff and got.flag is None, text


def test_more_than_an_answer_is_recorded_and_shown_to_staff():
    got = decide("3 no, my daughter wants to talk to you")
    assert got.answer is not None and got.needs_staff and got.flag is None


def test_with_no_question_open_a_yes_alone_goes_to_staff_and_words_of_danger_page():
    assert decide("YES", None).needs_staff
    assert decide("temp 101.8", None).level is Level.CALL
