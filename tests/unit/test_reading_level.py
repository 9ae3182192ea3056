"""Reading level: messages above 6th grade are named, in English and in Spanish."""

from reminders.checks.reading_level import reading_level_problem

HARD_EN = (
    "Postoperative vertebral augmentation necessitates considerable physiological "
    "recuperation; consequently, strenuous occupational responsibilities should be "
    "postponed until radiological evaluation confirms satisfactory consolidation."
)


def test_plain_english_passes():
    assert (
        reading_level_problem("Rest today. Walk a little each hour if you can do it.", "en") is None
    )


def test_hard_english_is_named_with_its_grade_and_the_limit():
    problem = reading_level_problem(HARD_EN, "en") or ""
    assert "Flesch-Kincaid" in problem and "the limit is 6" in problem


def test_a_regional_english_code_is_scored_as_english():
    assert "Flesch-Kincaid" in (reading_level_problem(HARD_EN, "en-US") or "")


def test_a_short_text_is_not_scored():
    # a subject line of long words would read as "grade 20" on its own
    assert (
        reading_level_problem("Postoperative radiological consolidation evaluation", "en") is None
    )


def test_a_language_without_a_formula_passes():
    assert reading_level_problem(HARD_EN, "vi") is None


def test_a_list_reads_as_short_sentences_not_one_long_one():
    items = "\n".join(
        f"- {line}"
        for line in [
            "Rest today",
            "Walk a little each hour",
            "Keep the bandage dry",
            "Call us if you feel worse",
            "Take your pills with food",
            "Sleep on your back",
        ]
    )
    assert reading_level_problem("Here is what to do:\n" + items, "en") is None


def test_spanish_is_scored_with_a_spanish_formula():
    plain = "Descanse hoy. Camine un poco cada hora. Llámenos si se siente peor o tiene fiebre."
    hard = (
        "La rehabilitación postoperatoria de la vertebroplastia requiere considerable "
        "recuperación fisiológica; consecuentemente, las responsabilidades ocupacionales "
        "extenuantes deberán posponerse hasta la evaluación radiológica correspondiente."
    )
    assert reading_level_problem(plain, "es") is None
    assert "Fernández Huerta" in (reading_level_problem(hard, "es") or "")
    # the formula's language is global state in textstat; scoring Spanish must not leak
    assert (
        reading_level_problem("Rest today. Walk a little each hour if you can do it.", "en") is None
    )
