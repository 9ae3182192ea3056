"""What a reply means for staff: its answer, its warning signs, the red flag, and whether a person must read it.

Fail safe: a text that is not a clean, complete answer to the open question is shown to
staff with its words, whatever else happens. A YES or NO that plainly means "message
received" ("Yes I got the message", "si gracias ya recibi el mensaje") answers nothing
and is not a warning-sign YES. Words that signal danger raise a red flag with or without
a question open, and an answer given with them is recorded too ("3, but I have a fever":
pain 3 and a fever). A NO next to words of danger ("mi mama no puede respirar") is not
recorded as "no warning signs".
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from reminders.domain.inbound.danger import Level, Reading, read_danger
from reminders.domain.inbound.replies import (
    BONE_MED,
    PAIN,
    PAIN_WARNING,
    Action,
    Answer,
    Intent,
    interpret,
    red_flag,
)
from reminders.domain.inbound.wording import plain_words, word_set

# Words that say the text arrived, not that something is wrong.
RECEIVED = word_set(
    "got received receive recieved recibi recibido recibida recibimos read lei leido "
    "message messages mensaje mensajes text texts texto email correo instructions "
    "instrucciones following siguiendo icing ice hielo taking tomando understood "
    "entendido noted copy reading leyendo thanks thank gracias"
)
# Words that may sit around a clean answer ("pain is 4, no thanks", "como un 4, nada nuevo").
_FILLER = word_set(
    "pain dolor is es my mi a an the el la los las thanks thank you gracias ok okay k "
    "today hoy out of de level nivel about around like como un una and y i im am its it "
    "to all todo todos good bien fine ok new nuevo nueva nuevos nada nothing none "
    "problems problem problemas signs symptoms sintomas senales warning alarma numbness "
    "weakness fever redness adormecimiento debilidad fiebre enrojecimiento so far feeling "
    "doing well better mejor just solo sore little bit poco tengo have has feel siento me "
    "estoy esta now ahora please por favor nurse enfermera too also maam sir senora senor "
    "dios god thankyou thx say says dice that eso score reply respuesta answer pretty muy "
    "very kind of no yes si nope nah n y yeah yep yup sip claro not dont don t tengo "
    "ningun ninguna ninguno sin with con today's hoy this morning manana am pm sure"
)


@dataclass(frozen=True)
class Triage:
    """The decision on one inbound text, before anything is stored or sent."""

    intent: Intent
    reading: Reading
    answer: Answer | None  # what to record against the open check-in, if anything
    flag: str | None  # why a nurse must know now, most severe first; None: no red flag
    level: Level
    partial: bool  # a pain-and-warning check-in answered in part: it stays open for the rest
    needs_staff: bool  # a person must read the words (an inbox item)


def received_only(body: str) -> bool:
    """True for "Yes I got the message", "si gracias ya recibi el mensaje", "yes, received"."""
    words = {w for sentence in plain_words(body) for w in sentence}
    return bool(words & RECEIVED)


def clean(body: str) -> bool:
    """True when nothing but an answer and polite words is written: nobody needs to read it."""
    for sentence in plain_words(body):
        for word in sentence:
            if word == "," or word.isdigit() or word.startswith("score") or word in _FILLER:
                continue
            return False
    return True


def triage(
    body: str,
    *,
    open_checkin: str | None,
    opted_out: bool,
    previous_pain: int | None,
    opt_out_type: str | None = None,
) -> Triage:
    """Decide what a text means, what to record, whether to page and whether staff must read it.

    After half a pain-and-warning answer, `open_checkin` is the half still open
    (`replies.remaining_half`): "7", then "YES" minutes later, is a warning-sign YES.
    """
    reading = read_danger(body)
    intent = interpret(
        body, open_checkin=open_checkin, opted_out=opted_out, opt_out_type=opt_out_type
    )
    if intent.action in (Action.OPT_OUT, Action.OPT_IN, Action.HELP) and not reading.findings:
        lone_yes = intent.action is Action.OPT_IN and intent.keyword == "YES" and not opted_out
        return Triage(intent, reading, None, None, Level.NONE, False, lone_yes)
    answer = intent.answer if intent.action is Action.ANSWER else None
    if answer is not None and answer.yes and received_only(body) and not reading.findings:
        unclear = Intent(Action.UNCLEAR, reason="a YES that may only mean the message was received")
        return Triage(unclear, reading, None, None, Level.NONE, False, True)
    if answer is not None and reading.findings:
        answer = _without_denial(answer)
        if answer is None:
            intent = Intent(Action.UNCLEAR, reason="a NO beside words of danger")
    if answer is not None and answer.pain is not None:  # the answer speaks for its number
        numbers = [
            f for f in reading.findings if f.concept == "pain" and f.said.startswith("pain ")
        ]
        reading = Reading(tuple(f for f in reading.findings if f not in numbers))
    flag: str | None = None
    level = Level.NONE
    if answer is not None:
        flag = red_flag(answer, previous_pain=previous_pain)
        level = Level.CALL if flag is not None else Level.NONE
    if reading.findings:
        words = f"wrote {reading.describe()}"
        if flag is None:
            flag = f"answered {shown(answer)} and {words}" if answer is not None else words
        elif reading.level >= level:  # the most severe first, everywhere
            flag = f"{words}; and {flag}"
        else:
            flag = f"{flag}; and {words}"
        level = max(level, reading.level)
    partial = answer is not None and answer.kind == PAIN_WARNING and not _complete(answer)
    readable = answer is not None and clean(body) and not partial
    return Triage(intent, reading, answer, flag, level, partial, not readable and flag is None)


def shown(answer: Answer) -> str:
    """An answer as staff read it: "7/10", "YES", "4 NO"."""
    return f"{answer.text}/10" if answer.kind == PAIN else answer.text.upper()


def _complete(answer: Answer) -> bool:
    return answer.pain is not None and answer.warning is not None


def _without_denial(answer: Answer) -> Answer | None:
    """Keep what an answer says beside words of danger, minus a NO to warning signs."""
    if answer.kind in (PAIN, BONE_MED) or answer.yes:
        return answer
    if answer.kind == PAIN_WARNING and answer.pain is not None:
        return replace(answer, text=str(answer.pain), warning=None)
    return None
