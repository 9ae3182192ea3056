"""Patients answer back: keywords, check-in answers, red flags and Twilio's delivery words."""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from reminders.domain.inbound.wording import SI_IF

# docs/replies.md, "Silence": no answer in 24 hours, one reminder; 24 hours later, staff.
REMINDER_AFTER = timedelta(hours=24)
TASK_AFTER = timedelta(hours=24)
ANSWER_WINDOW = timedelta(hours=72)  # a reply this long after the question still counts
RED_FLAG_PAIN = 8  # docs/replies.md, "Red flags": pain >= 8 is a red flag

PAIN = "pain"
WARNING = "warning"
BONE_MED = "bone_med"  # day 90: "Have you started a bone medicine?" NO opens a staff task
# Days 1, 3 and 7 ask both questions in one text (one text a day is the cap): "4 NO".
PAIN_WARNING = "pain_warning"
YES_NO_KINDS = frozenset({WARNING, BONE_MED})


class Keyword(enum.StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


# The keywords Twilio honours on long codes (docs/replies.md, "Inbound texts"), and the
# Spanish words our texts name: a patient told "responda PARAR" must be opted out by
# PARAR, and one who writes CANCELAR or BAJA means the same. Twilio's Advanced Opt-Out must list the
# Spanish words too, or Twilio keeps texting a phone we have opted out (docs/replies.md).
SPANISH_OPT_OUT = ("PARAR", "CANCELAR", "BAJA", "ALTO")
SPANISH_OPT_IN = ("COMENZAR", "ALTA")
KEYWORDS: dict[str, Keyword] = {
    **dict.fromkeys(
        ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"),
        Keyword.OPT_OUT,
    ),
    **dict.fromkeys(SPANISH_OPT_OUT, Keyword.OPT_OUT),
    **dict.fromkeys(("START", "YES", "UNSTOP", *SPANISH_OPT_IN), Keyword.OPT_IN),
    **dict.fromkeys(("HELP", "INFO", "AYUDA"), Keyword.HELP),
}
# Keywords Twilio does not know by default, per language: a clinic must add each one to
# its Messaging Service's Advanced Opt-Out, under that language, or Twilio's own blocking
# and confirmations will not match ours (README, "Twilio setup and replies").
PROVIDER_KEYWORDS: dict[str, dict[Keyword, tuple[str, ...]]] = {
    "es": {
        Keyword.OPT_OUT: SPANISH_OPT_OUT,
        Keyword.OPT_IN: SPANISH_OPT_IN,
        Keyword.HELP: ("AYUDA",),
    },
}
# Twilio's OptOutType parameter (Advanced Opt-Out), which covers keywords added there.
OPT_OUT_TYPES = {"STOP": Keyword.OPT_OUT, "START": Keyword.OPT_IN, "HELP": Keyword.HELP}


class Action(enum.StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    ANSWER = "answer"
    UNCLEAR = "unclear"
    UNMATCHED = "unmatched"


@dataclass(frozen=True)
class Answer:
    kind: str  # pain | warning | bone_med | pain_warning
    text: str  # "0".."10", "yes" or "no"; pain_warning: "4 no", or "yes" / "9" alone
    pain: int | None = None
    warning: bool | None = None  # pain_warning: the YES/NO part, when given

    @property
    def yes(self) -> bool:
        return self.text == "yes" or self.warning is True


@dataclass(frozen=True)
class Intent:
    """What an inbound text asks for, decided before anything is stored or sent."""

    action: Action
    keyword: str | None = None  # the keyword as matched, e.g. "STOP"
    answer: Answer | None = None
    reason: str = ""


def _plain(text: str) -> str:
    """Lower case without accents: "Sí" -> "si"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", _plain(text))


def keyword(body: str) -> tuple[Keyword, str] | None:
    """Return the keyword a whole text is, ignoring case, spaces, accents and punctuation."""
    joined = "".join(_words(body)).upper()
    found = KEYWORDS.get(joined)
    return (found, joined) if found else None


_EN_NUMBERS = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
)
_ES_NUMBERS = (
    "cero",
    "uno",
    "dos",
    "tres",
    "cuatro",
    "cinco",
    "seis",
    "siete",
    "ocho",
    "nueve",
    "diez",
)
_NUMBER_WORDS = {
    **{w: i for i, w in enumerate(_EN_NUMBERS)},
    **{w: i for i, w in enumerate(_ES_NUMBERS)},
    "una": 1,
    "none": 0,
    "nada": 0,
    "ninguno": 0,
}
_OUT_OF_TEN = re.compile(r"\s*(?:/|\bout of\b|\bof\b|\bde\b|\bsobre\b)\s*10\b")
_NO_PAIN = re.compile(r"\b(?:no pain|sin dolor)\b")


def parse_pain(body: str) -> int | None:
    """Read a 0-10 pain score from "7", "7/10", "7 out of 10", "seven", "siete"; else None."""
    text = _plain(body)
    if _NO_PAIN.search(text):
        return 0
    text = _OUT_OF_TEN.sub(" ", text)  # "7/10", "seven out of 10": the 10 is the scale
    if re.search(r"\d[.,]\d", text):
        return None  # "7.5": ask again rather than guess
    values = {int(n) for n in re.findall(r"\d+", text)}
    values |= {_NUMBER_WORDS[w] for w in _words(text) if w in _NUMBER_WORDS}
    if len(values) != 1:
        return None
    (value,) = values
    return value if 0 <= value <= 10 else None


_YES = frozenset({"yes", "y", "yeah", "yea", "yep", "yup", "si", "sip", "claro"})
_NO = frozenset({"no", "n", "nope", "nah", "nop"})


def parse_yes_no(body: str) -> bool | None:
    """Read yes or no ("YES", "si", "Sí.", "no thanks"); a text with both or neither is None."""
    said = _words(body)
    # "le llamo si tengo fiebre": that "si" is "if", not "yes".
    words = {w for i, w in enumerate(said) if not (w == "si" and i and said[i - 1] in SI_IF)}
    yes, no = bool(words & _YES), bool(words & _NO)
    return yes if yes != no else None


def parse_answer(kind: str, body: str) -> Answer | None:
    """Return the answer to a check-in of this kind, or None when the text is unclear."""
    if kind == PAIN:
        pain = parse_pain(body)
        return None if pain is None else Answer(PAIN, str(pain), pain)
    if kind == PAIN_WARNING:
        return _pain_and_warning(body)
    said = parse_yes_no(body)
    answered = kind if kind in YES_NO_KINDS else WARNING
    return None if said is None else Answer(answered, "yes" if said else "no")


def _pain_and_warning(body: str) -> Answer | None:
    """Read "4 NO", "no, 3", "Sí 9"; half an answer ("7", "no") is kept for what it says."""
    pain = parse_pain(body)
    # "no pain" answers the pain question only, not the warning-signs one.
    said = parse_yes_no(_NO_PAIN.sub(" ", _plain(body)))
    if pain is None and said is None:
        return None
    parts = [str(pain) if pain is not None else "", "" if said is None else "yes" if said else "no"]
    return Answer(PAIN_WARNING, " ".join(p for p in parts if p), pain, said)


def remaining_half(earlier: str) -> str:
    """The question still open after half a pain-and-warning answer: "7" leaves the warning
    signs (a YES now is a warning-sign YES, not an opt-in), "no" leaves the pain."""
    return WARNING if re.search(r"\d", earlier) else PAIN


def both_halves(earlier: str, later: Answer) -> str:
    """One answer from two texts: "7" then "yes" is "7 yes"; "no" then "4/10" is "4 no"."""
    pain = later.pain if later.pain is not None else parse_pain(earlier)
    said = later.text if later.kind in YES_NO_KINDS else earlier
    return f"{pain} {said}" if pain is not None else said


def interpret(
    body: str,
    *,
    open_checkin: str | None,
    opted_out: bool,
    opt_out_type: str | None = None,
) -> Intent:
    """Decide what a text means. Opt-out wins over everything. For a phone that is not opted
    out, YES answers an open warning question (and is unclear for an open pain question);
    otherwise YES is an opt-in keyword, as START and UNSTOP always are."""
    matched = keyword(body)
    twilio = OPT_OUT_TYPES.get((opt_out_type or "").strip().upper())
    kind = matched[0] if matched else twilio
    word = matched[1] if matched else (opt_out_type or "").strip().upper() or None
    if kind is Keyword.OPT_OUT or twilio is Keyword.OPT_OUT:
        return Intent(Action.OPT_OUT, keyword=word)
    if kind is Keyword.OPT_IN:
        if word == "YES" and not opted_out and open_checkin in YES_NO_KINDS:
            return Intent(Action.ANSWER, answer=Answer(open_checkin, "yes"), keyword=word)
        if word == "YES" and not opted_out and open_checkin == PAIN_WARNING:
            both = Answer(PAIN_WARNING, "yes", None, True)
            return Intent(Action.ANSWER, answer=both, keyword=word)
        if word == "YES" and not opted_out and open_checkin is not None:
            return Intent(Action.UNCLEAR, reason=f"YES is not a {open_checkin} answer")
        return Intent(Action.OPT_IN, keyword=word)
    if kind is Keyword.HELP:
        return Intent(Action.HELP, keyword=word)
    if opted_out:
        return Intent(Action.UNMATCHED, reason="the phone is opted out of texts")
    if open_checkin is None:
        return Intent(Action.UNMATCHED, reason="no question is open for this phone")
    answer = parse_answer(open_checkin, body)
    if answer is None:
        return Intent(Action.UNCLEAR, reason=f"not a {open_checkin} answer")
    return Intent(Action.ANSWER, answer=answer)


def red_flag(answer: Answer, *, previous_pain: int | None) -> str | None:
    """Return why an answer needs staff now (docs/replies.md, "Red flags"), or None."""
    if answer.kind == BONE_MED:
        return None  # not urgent: a NO opens a staff task instead (bone_med_task)
    if answer.yes:
        return "answered YES to new numbness, weakness, fever or redness"
    pain = answer.pain
    if pain is None:
        return None
    if pain >= RED_FLAG_PAIN:
        return f"pain {pain}/10 (8 or more)"
    if previous_pain is not None and pain - previous_pain >= 3:
        return f"pain up from {previous_pain} to {pain}/10 since the last answer"
    return None


def bone_med_task(answer: Answer) -> str | None:
    """Return the staff task a bone-medicine answer calls for, or None (docs/replies.md, "Staff tasks from answers")."""
    if answer.kind != BONE_MED or answer.yes:
        return None
    return (
        "answered NO to 'Have you started a bone medicine?' at 3 months: "
        "call the patient about osteoporosis treatment and a bone density test"
    )
