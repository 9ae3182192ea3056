"""What a patient's text means: keywords, pain scores, yes/no, precedence and red flags."""

from __future__ import annotations

import pytest

from reminders.domain.inbound.replies import (
    Action,
    Answer,
    Keyword,
    bone_med_task,
    interpret,
    keyword,
    parse_pain,
    parse_yes_no,
    red_flag,
)

OPT_OUT_WORDS = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"]


@pytest.mark.parametrize("word", OPT_OUT_WORDS)
@pytest.mark.parametrize("shape", ["{}", "{l}", "  {t}  ", "{}.", "{l}!", '"{t}"', "\n{}\n"])
def test_every_opt_out_keyword_in_any_case_with_stray_spaces_and_punctuation(word, shape):
    text = shape.format(word, l=word.lower(), t=word.title())
    assert keyword(text) == (Keyword.OPT_OUT, word)


@pytest.mark.parametrize("text", ["Stop all", "opt out", "Opt-Out", "stop-all", "UN SUBSCRIBE"])
def test_split_keywords_still_match(text):
    assert keyword(text) is not None and keyword(text)[0] is Keyword.OPT_OUT


@pytest.mark.parametrize("text", ["please stop", "stop texting me", "the end?", "cancel my visit"])
def test_a_keyword_inside_a_sentence_is_not_a_keyword(text):
    assert keyword(text) is None  # Twilio also matches whole texts only; staff see these


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("start", Keyword.OPT_IN),
        ("YES", Keyword.OPT_IN),
        ("Unstop.", Keyword.OPT_IN),
        ("help", Keyword.HELP),
        ("INFO?", Keyword.HELP),
        ("Ayuda", Keyword.HELP),
    ],
)
def test_opt_in_and_help(text, kind):
    assert keyword(text)[0] is kind


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("7", 7),
        (" 7 ", 7),
        ("7/10", 7),
        ("7 / 10", 7),
        ("7 out of 10", 7),
        ("seven", 7),
        ("Seven out of 10", 7),
        ("siete", 7),
        ("Siete de 10", 7),
        ("my pain is 3 today", 3),
        ("0", 0),
        ("10", 10),
        ("10/10", 10),
        ("diez", 10),
        ("cero", 0),
        ("no pain", 0),
        ("sin dolor", 0),
        ("7 siete", 7),
    ],
)
def test_pain_scores(text, score):
    assert parse_pain(text) == score


@pytest.mark.parametrize("text", ["", "bad", "7-8", "3 or 4", "11", "7.5", "yes", "muy mal"])
def test_unclear_pain(text):
    assert parse_pain(text) is None


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("YES", True),
        ("yes, a fever", True),
        ("si", True),
        ("Sí", True),
        ("SÍ.", True),
        ("sí tengo fiebre", True),
        ("y", True),
        ("no", False),
        ("No.", False),
        ("NO gracias", False),
        ("nope", False),
    ],
)
def test_yes_or_no(text, said):
    assert parse_yes_no(text) is said


@pytest.mark.parametrize("text", ["maybe", "yes no", "I have a fever", ""])
def test_unclear_yes_no(text):
    assert parse_yes_no(text) is None


def test_opt_out_wins_over_an_open_question():
    intent = interpret("STOP", open_checkin="warning", opted_out=False)
    assert intent.action is Action.OPT_OUT and intent.keyword == "STOP"


def test_yes_answers_an_open_warning_question():
    intent = interpret("Yes", open_checkin="warning", opted_out=False)
    assert intent.action is Action.ANSWER and intent.answer == Answer("warning", "yes")


def test_yes_opts_back_in_when_opted_out_even_with_a_question_open():
    assert interpret("YES", open_checkin="warning", opted_out=True).action is Action.OPT_IN


def test_yes_with_nothing_open_is_an_opt_in_keyword():
    assert interpret("yes", open_checkin=None, opted_out=False).action is Action.OPT_IN


def test_yes_to_a_pain_question_is_unclear_and_start_still_opts_in():
    assert interpret("YES", open_checkin="pain", opted_out=False).action is Action.UNCLEAR
    assert interpret("START", open_checkin="warning", opted_out=False).action is Action.OPT_IN


def test_spanish_si_is_never_an_opt_in():
    assert interpret("SÍ", open_checkin="warning", opted_out=False).action is Action.ANSWER
    assert interpret("si", open_checkin=None, opted_out=False).action is Action.UNMATCHED


def test_twilio_opt_out_type_counts_as_a_keyword():
    assert interpret("BAJA", open_checkin=None, opted_out=False, opt_out_type="STOP").action is (
        Action.OPT_OUT
    )


def test_an_opted_out_phone_only_opts_back_in():
    assert interpret("7", open_checkin="pain", opted_out=True).action is Action.UNMATCHED
    assert interpret("start", open_checkin=None, opted_out=True).action is Action.OPT_IN


def test_answers_and_unclear_replies():
    assert interpret("siete", open_checkin="pain", opted_out=False).answer == Answer("pain", "7", 7)
    assert interpret("no idea", open_checkin="pain", opted_out=False).action is Action.UNCLEAR
    assert interpret("hello", open_checkin=None, opted_out=False).action is Action.UNMATCHED


@pytest.mark.parametrize(
    ("answer", "previous", "flag"),
    [
        (Answer("warning", "yes"), None, True),
        (Answer("warning", "no"), None, False),
        (Answer("pain", "8", 8), None, True),
        (Answer("pain", "7", 7), None, False),
        (Answer("pain", "7", 7), 4, True),
        (Answer("pain", "6", 6), 4, False),
        (Answer("pain", "2", 2), 9, False),
    ],
)
def test_red_flags(answer, previous, flag):
    assert (red_flag(answer, previous_pain=previous) is not None) is flag


# ---- Spanish keywords and the day-90 bone-medicine question (issue 12) ------------------------


@pytest.mark.parametrize("word", ["PARAR", "cancelar", "Baja.", "ALTO"])
def test_spanish_opt_out_words_are_honoured_like_stop(word):
    assert interpret(word, open_checkin="warning", opted_out=False).action is Action.OPT_OUT


@pytest.mark.parametrize("word", ["COMENZAR", "alta"])
def test_spanish_opt_in_words_are_honoured_like_start(word):
    assert interpret(word, open_checkin=None, opted_out=True).action is Action.OPT_IN


def test_ayuda_asks_for_help():
    assert interpret("ayuda", open_checkin=None, opted_out=False).action is Action.HELP


def test_a_bone_medicine_no_opens_a_task_and_a_yes_does_not():
    no = interpret("No todavía", open_checkin="bone_med", opted_out=False)
    assert no.answer == Answer("bone_med", "no")
    assert red_flag(no.answer, previous_pain=None) is None
    assert "bone medicine" in (bone_med_task(no.answer) or "")
    yes = interpret("YES", open_checkin="bone_med", opted_out=False)
    assert yes.action is Action.ANSWER and yes.answer == Answer("bone_med", "yes")
    assert bone_med_task(yes.answer) is None
    assert bone_med_task(Answer("warning", "no")) is None


@pytest.mark.parametrize(
    ("body", "text", "pain", "warning", "flag"),
    [
        ("4 NO", "4 no", 4, False, False),
        ("No, 3", "3 no", 3, False, False),
        ("Sí 2", "2 yes", 2, True, True),
        ("7", "7", 7, None, False),
        ("no", "no", None, False, False),
        ("9 no", "9 no", 9, False, True),
        ("no pain", "0", 0, None, False),  # "no pain" does not answer the warning question
    ],
)
def test_the_two_question_check_in_reads_both_answers_or_half(body, text, pain, warning, flag):
    intent = interpret(body, open_checkin="pain_warning", opted_out=False)
    assert intent.action is Action.ANSWER
    assert intent.answer == Answer("pain_warning", text, pain, warning)
    assert (red_flag(intent.answer, previous_pain=None) is not None) is flag


def test_yes_alone_answers_the_two_question_check_in_as_a_red_flag():
    intent = interpret("YES", open_checkin="pain_warning", opted_out=False)
    assert intent.answer == Answer("pain_warning", "yes", None, True)
    assert red_flag(intent.answer, previous_pain=None)


def test_the_two_question_check_in_sees_a_rise_in_pain():
    answer = interpret("6 no", open_checkin="pain_warning", opted_out=False).answer
    assert answer and red_flag(answer, previous_pain=2) and not red_flag(answer, previous_pain=4)


def test_gibberish_is_unclear_for_the_two_question_check_in():
    intent = interpret("not great", open_checkin="pain_warning", opted_out=False)
    assert intent.action is Action.UNCLEAR
