"""The `reminders` command: every usage error is one line and exit status 2; help works.

The enrollment commands are tested in test_cli_enrollments.py."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from test_cli_enrollments import ENROLL

from reminders.domain.planning.sms import measure, non_gsm7_characters
from reminders.entrypoints.cli.main import main


@pytest.fixture
def cli(container, monkeypatch):
    monkeypatch.setattr("reminders.entrypoints.cli.enrollments.container", lambda: container)
    return CliRunner()


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["enroll"], "error: --first-name: is required (see --help)"),
        (["enroll", "--levels", "x"], "error: --levels: 'x' is not a valid integer range."),
        (["nosuch"], "error: No such command 'nosuch'."),
        (
            [*ENROLL[:-2], "--consent", "fax"],
            "error: --consent: 'fax': use sms or email, optionally with :verbal or :written",
        ),
    ],
)
def test_usage_errors_are_one_line_and_status_2(cli, args, line):
    r = cli.invoke(main, args)
    assert r.exit_code == 2
    assert r.stderr == line + "\n"
    assert r.stdout == ""


def test_help_still_works(cli):
    r = cli.invoke(main, ["enroll", "--help"])
    assert r.exit_code == 0 and "--first-name" in r.output


# ---- reminders plan: what a text-only patient is told (issue 12, "Done when") ---------------

PLAN_ARGS = ["plan", "kyphoplasty", "--timezone", "America/Los_Angeles", "--channels", "sms"]
# What every text-only patient must read in their texts, per language (issue 21's wording:
# the spinal emergency, body parts, dangerous medicine mixes, Celsius in Spanish).
MUST_SAY = {
    "en": {
        "911": r"\b911\b",
        "chest pain": r"(?i)chest pain",
        "trouble breathing": r"(?i)trouble breathing",
        "swallowing, tongue or throat": r"swallow.*(tongue|throat)",
        "spinal emergency": r"Legs suddenly weak or not working\. Loss of bladder or bowel control",
        "numbness with body parts": r"numbness or weakness in legs, belly or buttocks",
        "fever threshold": r"(?i)fever of 100\.4 ?F",
        "no driving": r"No driving for 2 days, or on opioid pain pills like Norco",
        "lifting limit in pounds": r"Lift nothing over 10 lb \(4\.5 kg\) until your follow-up visit",
        "no bending or twisting": r"Do not bend or twist",
        "ice with a cloth": r"Ice 15-20 min, cloth between ice and skin",
        "pain medicines": r"no alcohol or sleeping pills. Take only 1 acetaminophen",
        "bathing rule": r"shower.*No tub, pool or hot tub until your doctor says OK",
        "a fall": r"A fall, even if you feel fine",
        "how to opt out": r"Reply STOP",
    },
    "es": {
        "911": r"\b911\b",
        "chest pain": r"(?i)dolor de pecho",
        "trouble breathing": r"respirar",
        "swallowing, tongue or throat": r"tragar.*lengua o garganta hinchados",
        "spinal emergency": r"Piernas de repente sin fuerza\. No controla orina o evacuaciones",
        "numbness with body parts": r"Piernas, vientre o nalgas dormidos o sin fuerza",
        "fever threshold": r"Fiebre de 100\.4F \(38C\)",
        "no driving": r"No maneje 2 dias, ni si toma opioides",
        "lifting limit in pounds": r"No levante mas de 10 libras \(4\.5 kilos\)",
        "no bending or twisting": r"No se agache ni gire la espalda",
        "ice with a cloth": r"Hielo 15 a 20 min, con un trapo entre hielo y piel",
        "pain medicines": r"nada de alcohol ni pastillas para dormir.*paracetamol",
        "bathing rule": r"regadera; nada de tina, alberca ni jacuzzi hasta que su doctor le diga",
        "a fall": r"Una caida, aunque se sienta bien",
        "how to opt out": r"responda PARAR",
    },
}
# Texts that may take 3 segments (docs/care-plans.md): the first safety text and the
# text-only tips, merged with a check-in, and the late care rules; any other text 2.
THREE_SEGMENTS = ("first_text", "text_day1", "text_day3", "care_rules_late_text")


def budget(header: str) -> int:
    return 3 if any(key in header for key in THREE_SEGMENTS) else 2


def printed_texts(output: str) -> list[tuple[str, str]]:
    """The SMS rows of `reminders plan`: (header, whole text with its wrapped lines joined)."""
    texts: list[tuple[str, list[str]]] = []
    for line in output.splitlines():
        if line.startswith("    ") and texts:
            texts[-1][1].append(line.strip())
        elif "  SMS  " in line:
            texts.append((line, []))
    return [(header, " ".join(lines)) for header, lines in texts]


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("overnight", [False, True])
@pytest.mark.parametrize("hour", ["10:00", "19:30", "23:30"])
def test_a_text_only_patient_reads_every_safety_fact_in_texts_within_budget(
    language, overnight, hour
):
    args = [*PLAN_ARGS, "--language", language, "--performed-at", f"2026-09-30 {hour}"]
    r = CliRunner().invoke(main, args + (["--overnight"] if overnight else []))
    assert r.exit_code == 0, r.output
    texts = printed_texts(r.stdout)
    assert len(texts) >= 7 and "(11 SMS, 0 email)" in r.stdout
    everything = " ".join(text for _, text in texts)
    for fact, pattern in MUST_SAY[language].items():
        assert re.search(pattern, everything, re.S), f"{language}: no text says {fact}"
    for header, text in texts:
        size = measure(text)
        assert f"[{size.segments} segment" in header, (header, text)  # the printout is true
        assert size.segments <= budget(header), (header, text)
        if language == "es":
            assert size.encoding == "GSM-7", (header, text, non_gsm7_characters(text))
    first_days = [int(h.split("day")[1].split()[0]) for h, _ in texts[:3]]
    assert first_days[-1] <= 3  # every fact above arrives by day 3


SAFETY = ("911", "chest pain", "trouble breathing", "swallowing, tongue or throat")


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize(
    ("performed", "enrolled", "first_at"),
    [
        ("2026-09-30 10:00", "2026-10-01 16:00", "Thu 2026-10-01 16:00 PDT"),  # 30 h: at once
        ("2026-09-30 17:00", "2026-10-01 23:30", "Fri 2026-10-02 08:00 PDT"),  # at night: 08:00
        ("2026-09-30 10:00", "2026-10-05 10:00", "Mon 2026-10-05 10:00 PDT"),  # 5 days
    ],
)
def test_a_text_only_patient_enrolled_late_gets_the_warning_signs_first(
    language, performed, enrolled, first_at
):
    args = [*PLAN_ARGS, "--language", language, "--performed-at", performed]
    r = CliRunner().invoke(main, [*args, "--enrolled-at", enrolled])
    assert r.exit_code == 0, r.output
    sent = [(h, t) for h, t in printed_texts(r.stdout) if "SKIPPED" not in h]
    header, first = sent[0]
    assert header.startswith(first_at) and "first_text_same_day" in header, r.stdout
    assert "(catch-up: its time had passed at enrollment" in header  # staff see why
    for fact in (*SAFETY, "fever threshold", "how to opt out"):
        assert re.search(MUST_SAY[language][fact], first, re.S), (fact, first)
    for header, text in sent:
        assert measure(text).segments <= budget(header), (header, text)
    days = [h.split()[1] for h, _ in sent]
    assert len(days) == len(set(days)), "two texts on one day"
