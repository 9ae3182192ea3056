"""Danger words in a patient's own text: found in English and Spanish, not when negated."""

from __future__ import annotations

import pytest

from reminders.domain.inbound.danger import danger


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("I have chest pain", "chest pain"),
        ("CHEST PAIN!!", "chest pain"),
        ("I can't breathe", "cant breathe"),
        ("I can\u2019t breathe well", "cant breathe"),
        ("my mom passed out", "passed out"),
        ("she is very hard to wake", "hard to wake"),
        ("fever 101", "fever"),
        ("numbness in my left leg", "numbness"),
        ("Tengo dolor de pecho", "dolor de pecho"),
        ("No puedo respirar", "no puedo respirar"),
        ("tengo fiebre y escalofríos", "fiebre"),
        ("se me cierra la garganta", "se me cierra la garganta"),
        ("No, but I have a fever", "fever"),  # the "no" ends its own clause
        ("4 no. Fiebre desde anoche", "fiebre"),
    ],
)
def test_danger_is_found(text, found):
    assert danger(text) == found


@pytest.mark.parametrize(
    "text",
    [
        "no fever",
        "no fever or chills",
        "I don't have any numbness",
        "Not an emergency, just a question about my pills",
        "no tengo fiebre",
        "sin fiebre ni dolor de pecho",
        "4 NO",
        "thank you, feeling better",
        "feverish dreams",  # whole words only... "feverish" is not "fever"
        "",
    ],
)
def test_no_danger(text):
    assert danger(text) is None
