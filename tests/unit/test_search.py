"""Search keys fold accents and case the same way on both sides."""

from reminders.domain.staff.search import fold, patient_search_key, search_words


def test_accents_and_case_fold_away():
    assert fold("  José   RAMÍREZ ") == "jose ramirez"
    assert fold("Ñúñez-Çelik Øster") == "nunez-celik øster"  # ø has no base letter: kept
    assert fold("Straße") == "strasse"


def test_the_key_holds_names_phone_digits_and_email():
    key = patient_search_key(
        first_name="José", last_name="Ramírez", phone="+18055550142", email="Jose@Example.org"
    )
    assert key == "jose ramirez 18055550142 jose@example.org"
    assert patient_search_key(first_name="A", last_name="B", phone=None, email=None) == "a b"


def test_a_phone_number_however_written_is_one_word_of_digits():
    assert search_words("+1 805 555 0142") == ["18055550142"]  # the country code kept
    assert search_words(" +1.805.555.0142 ") == ["18055550142"]
    for typed in ("805-555-0142", "(805) 555 0142", "8055550142"):
        assert search_words(typed) == ["8055550142"]


def test_other_searches_keep_their_words():
    assert search_words("ana  lopez") == ["ana", "lopez"]
    assert search_words("555 01") == ["555", "01"]  # too few digits to be a phone number
    assert search_words("#12") == ["#12"]
    assert search_words("EPIC-77 ana") == ["EPIC-77", "ana"]
