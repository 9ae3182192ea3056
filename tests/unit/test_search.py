"""Search keys fold accents and case the same way on both sides."""

from reminders.domain.search import fold, patient_search_key


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
