"""SMS segment counting: GSM-7, its two-septet extension characters, and UCS-2."""

import pytest

from reminders.domain.planning.sms import measure, non_gsm7_characters


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "GSM-7", 0, 0),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),  # each extension character costs two septets
        ("{" * 81, "GSM-7", 162, 2),
        ("ñ¿¡é" * 40, "GSM-7", 160, 1),  # Spanish letters that are in GSM-7
        ("á" * 70, "UCS-2", 70, 1),
        ("á" * 71, "UCS-2", 71, 2),
        ("á" * 134, "UCS-2", 134, 2),
        ("á" * 135, "UCS-2", 135, 3),
        ("don’t", "UCS-2", 5, 1),  # a curly apostrophe forces UCS-2
        ("🙂", "UCS-2", 2, 1),  # an emoji is two UTF-16 units
    ],
)
def test_measure(text, encoding, units, segments):
    size = measure(text)
    assert (size.encoding, size.units, size.segments) == (encoding, units, segments)


def test_non_gsm7_characters_names_the_culprits_once():
    assert non_gsm7_characters("Llame “ya” – día") == ["“", "”", "–", "í"]
