"""Warning signs in a patient's or caregiver's own words, each with a severity: 911 > call > none.

A text such as "my mom cant breathe good", "me cai en el bano", "temp 101.8" or "3, but I
have a fever" must reach a nurse as surely as a YES or a pain of 8 does. The reading is by
concept (breathing, chest, legs, bladder/bowel, fever, wound, falls, confusion, calf,
allergic, pain out of control), not by exact phrase: a concept is a set of word classes
found near each other in one sentence ("chest" near "hurts", "pressure" or "tight"),
typo-tolerant (domain/inbound/wording.py). Third person ("she cant breathe", "se cayo")
reads the same as the first. A finding does not count when:
- it is negated in its own clause ("no fever", "sin fiebre", "I don't have chest pain");
  a clause ends at a comma and at but/pero/and/y/just/solo/sino..., so "no chest pain
  just pressure" is chest pressure, and "No I have a fever" (an answer, then the words)
  is a fever;
- it is hypothetical ("will call if I get a fever", "que hago si me da fiebre");
- it is over ("had a fever yesterday, gone now", "ya se me quito la fiebre"): a resolved
  call-level sign counts for nothing, a resolved 911-level sign still calls the clinic,
  and a fall always does.
Temperatures written as numbers count: 100.4F or 38C and up is a fever. The list leans
to inclusion: a false alarm costs a nurse a minute, a missed one far more.
"""

from __future__ import annotations

import enum
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from reminders.domain.inbound.wording import SI_IF, WordClasses, plain_words, word_set

FEVER_F = 100.4  # the care plans' threshold (config/care_plans/*.toml, fever_f / fever_c)
FEVER_C = 38.0


class Level(enum.IntEnum):
    """How urgent a finding is; the most severe is the headline everywhere."""

    NONE = 0
    CALL = 1  # call the clinic now
    EMERGENCY = 2  # call 911

    @property
    def label(self) -> str:
        return {Level.NONE: "none", Level.CALL: "call", Level.EMERGENCY: "911"}[self]


@dataclass(frozen=True)
class Finding:
    concept: str  # breathing | chest | legs | bladder | fever | wound | falls | ...
    level: Level
    said: str  # the words it was read from, made plain


@dataclass(frozen=True)
class Reading:
    """Everything a text says that signals danger, the most severe first."""

    findings: tuple[Finding, ...] = ()

    @property
    def level(self) -> Level:
        return self.findings[0].level if self.findings else Level.NONE

    @property
    def headline(self) -> Finding | None:
        return self.findings[0] if self.findings else None

    def describe(self) -> str:
        """'"chest pain" in a text (911: chest); also "fever" (call: fever)': staff, audit."""
        parts = [f'"{f.said}"' for f in self.findings]
        labels = [f"({f.level.label}: {f.concept})" for f in self.findings]
        if not parts:
            return ""
        first = f"{parts[0]} in a text {labels[0]}"
        rest = [f"{p} {label}" for p, label in zip(parts[1:], labels[1:], strict=True)]
        return first + ("; also " + ", ".join(rest) if rest else "")


# Phrases rewritten to one word before reading, so "no" inside "no puedo respirar" or
# "no control" is not taken as a negation. Tokens starting with "x" are ours.
_PHRASES_RAW = [
    (r"heart attack|ataque al corazon|ataque cardiaco|paro cardiaco|infarto", "xheartattack"),
    (
        r"(cant|cannot|can not|unable to|not able to|no aguanto|no aguanta|no soporto)"
        r"( take| stand| bear| handle)?( the| this| el| este| la| mi)? (pain|dolor)",
        "dolor xunbearable",
    ),
    (
        r"no (respira|respiro|respiras|puede respirar) (bien|good|well)"
        r"|(not|isnt|is not|arent) breathing (well|right|good|normal)",
        "xunable respirar",
    ),
    (r"giv(e|es|ing) way|gave way", "xgiveway"),
    (r"no controlo|no controla|no puedo controlar|no puede controlar", "xunable controlar"),
    (r"no siento|no siente|no sentia|no sienten|no se siente", "xunable sentir"),
    (r"no (me |le )?entra (el )?aire", "xunable respirar"),
    (
        r"havent peed|have not peed|hasnt peed|havent urinated|hasnt urinated"
        r"|no he orinado|no ha orinado|no he hecho pipi|no ha hecho pipi|no e orinado",
        "xunable pee",
    ),
    (r"no (se |me )?despierta|wont wake|won t wake", "xunable despertar"),
    (
        r"(dont|doesnt|does not|do not|didnt|isnt|arent|not) (help|helping|work|working)"
        r"|no me hacen nada|no hacen nada|no me ayudan?|no me sirven?|no sirven?"
        r"|no funcionan?|no (se |me )?(me |le )?quita|no me lo quita",
        "xnotworking",
    ),
    (
        r"no control|lost control|lose control|losing control|loss of control"
        r"|perdi el control|perdio el control|sin control",
        "xlostcontrol",
    ),
    (
        r"didnt feel it|didnt know|did not know|without knowing|didnt notice|sin darme cuenta"
        r"|sin darse cuenta|no se dio cuenta|no me di cuenta|sin sentir",
        "xunaware",
    ),
    (r"doesnt know|does not know|dont know where|no sabe|no sabia", "xunknowing"),
    (
        r"doesnt recognize|does not recognize|didnt recognize|dont recognize"
        r"|no (me |nos |te |la |lo )?reconoce",
        "xnorecognize",
    ),
    (
        r"not making sense|doesnt make sense|no tiene sentido|sin sentido|not acting right"
        r"|no esta bien de la cabeza|talking nonsense|not herself|not himself",
        "xnonsense",
    ),
    (
        r"no reacciona|no responde|not responding|wont respond|unresponsive|no contesta",
        "xunresponsive",
    ),
    (
        r"no feeling|no sensation|no sensacion|(no tengo|no tiene) sensacion|lost (all )?feeling"
        r"|perdi la sensibilidad|sin sensibilidad",
        "xnofeeling",
    ),
    (
        r"perdi la fuerza|perdio la fuerza|(no tengo|no tiene) fuerza|no strength"
        r"|lost (my |all )?strength",
        "xnostrength",
    ),
    (
        r"no (me |le )?responden|no (me |le )?sostienen|gives? out|gave out|giving out"
        r"|stopped working|dejaron de funcionar|buckled",
        "xgiveout",
    ),
    (
        r"(cant|cannot|can not|couldnt|could not|unable to|not able to|wont|will not"
        r"|no puedo|no puede|no pude|no podia|no pudo|no he podido|no ha podido"
        r"|no me puedo|no se puede|no (lo|la|le) puedo|no podemos|no logro|no consigo"
        r"|no aguanto|no aguanta)",
        "xunable",
    ),
    (r"pins and needles|pins needles", "tingling"),
    (
        r"fell asleep|fall asleep|falling asleep|falls asleep|me quede dormid[oa]"
        r"|se quedo dormid[oa]",
        "dozed",
    ),
    (r"fell behind|fall behind|falling behind|fell off the wagon|fell in love", "lagged"),
    (
        r"out of breath|short of breath|shortness of breath|\bsob\b|falta de aire"
        r"|falta el aire|falta aire|sin aire|breathless",
        "xbreathless",
    ),
    (r"out of control|fuera de control", "xoutofcontrol"),
    (r"killing me|me esta matando|me mata", "xkilling"),
    (r"so bad|real bad|really bad|very bad|too much|too bad|demasiado|bien feo", "xsobad"),
    (r"red streaks?|rayas rojas|lineas rojas|red lines?", "xredstreaks"),
    (
        r"hot and sweaty|burning up|running a temperature|(have|has|got|had) a temperature"
        r"|high temperature|temperatura alta|mucha temperatura|(tiene|tengo) temperatura",
        "fever",
    ),
    (
        r"(wet|peed|pooped|soiled) (my|him|her)sel(f|ves)|pooped my pants|peed my pants"
        r"|me orine encima|se orino encima|(me|se) hi(ce|zo) (del bano|pipi|popo|caca)"
        r"|had an accident",
        "xsoiled",
    ),
    (r"turning blue|(lips|labios) (are |estan )?(blue|morados)|morad[oa]s? los labios", "xblue"),
    (
        r"pass out|passed out|passing out|black out|blacked out|blacking out"
        r"|(perdio|perdi) el conocimiento|se desvanecio|se desmaya",
        "xfaint",
    ),
    (r"pasar saliva", "tragar"),
    (r"air hunger", "xbreathless"),
    (
        r"talking (crazy|funny|strange|weird|nonsense)|acting (crazy|strange|weird|funny|odd)"
        r"|seeing things|out of (his|her) mind|ve cosas|viendo cosas|dice cosas raras"
        r"|habla cosas raras|no sabe lo que dice|habla incoherencias|habla raro",
        "xnonsense",
    ),
    (
        r"(found|encontre|encontramos) (him |her |them |lo |la )?(on|en) (the |el )?"
        r"(floor|piso|suelo)|hit the (floor|ground)|went down hard|se fue al (piso|suelo)"
        r"|tirad[oa] en el (piso|suelo)",
        "fell",
    ),
    (r"wetting (my|him|her)sel(f|ves)|wet the bed|peeing (my|him|her)self", "xsoiled"),
    (r"(de|from) (la cintura|the waist) (para abajo|down)|down there|alla abajo", "xwaistdown"),
    (
        r"went away|go away|gone away|is gone|its gone|are gone|gone now|se (me |le )?quito"
        r"|ya se (me |le )?quito|se (me |le )?fue|ya paso|se paso|stopped|\bparo\b|fever broke"
        r"|resolved|no longer|not anymore|no more|better now|fine now|ok now|okay now"
        r"|fine today|good now|ya estoy bien|hoy estoy bien|pero ya no|but none now|ya no",
        "xresolved",
    ),
    (r"its a (\d+)|es un (\d+)|es de (\d+)", r"score\1\2\3"),
]
PHRASES = tuple((re.compile(rf"\b(?:{p})\b"), r) for p, r in _PHRASES_RAW)

_CLASSES: dict[str, frozenset[str]] = {
    "chest": word_set("chest chests pecho pechos"),
    "hurt": word_set(
        "pain pains painful hurt hurts hurting ache aches aching dolor dolores duele "
        "duelen dolia doliendo adolorido adolorida discomfort xkilling"
    ),
    "pressure": word_set(
        "pressure tight tightness heavy heaviness squeezing crushing presion aprieta "
        "apretado apretada opresion pesado elephant weight peso squeeze"
    ),
    "heart": word_set("heart corazon"),
    "racing": word_set(
        "fast skipping palpitaciones beating racing pounding acelerado acelerada palpitations fluttering"
    ),
    "heartattack": word_set("xheartattack"),
    "breath": word_set(
        "breathe breath breathing breathin breathes breathed air aire respirar respira "
        "respiro respiracion respirando oxygen oxigeno"
    ),
    "breathprob": word_set(
        "bad terrible worse hunger hard trouble short difficulty difficult dificultad struggling struggle barely "
        "cuesta falta problems problem problemas batallo batallando funny slow slowly "
        "shallow lento lenta despacio heavy fast rapido xunable poco mal labored"
    ),
    "breathsolo": word_set(
        "suffocating gasping wheezing ahogo ahogando ahoga asfixia asfixiando winded "
        "xbreathless xblue choking"
    ),
    "cough": word_set("cough coughing coughed coughs tos tose tosiendo escupo"),
    "blood": word_set("blood bloody sangre"),
    "leg": word_set(
        "ankle ankles tobillo tobillos leg legs pierna piernas foot feet pie pies thigh thighs muslo muslos knee knees "
        "rodilla rodillas xwaistdown"
    ),
    "movefeel": word_set(
        "work working get hold support move feel stand lift mover moverla moverlas sentir parar pararme levantar "
        "levantarme pararse levantarse"
    ),
    "legdead": word_set(
        "paralyzed paralysed paralizaron paralizado paralizada paralizadas dead xgiveout "
        "xnofeeling xnostrength"
    ),
    "numb": word_set(
        "numb numbness tingling tingly tingle tingles weak weakness wobbly entumido "
        "entumida entumidas entumidos entumen entumecimiento entumecida entumecido "
        "adormecimiento adormecida adormecido adormecidas hormigueo hormiguean "
        "hormigueando debil debiles debilidad flojas flojos xgiveway xnostrength"
    ),
    "legsleep": word_set("asleep dormida dormido dormidas duermen duerme"),
    "walk": word_set("walk walking caminar camino andar"),
    "barely": word_set("barely casi hardly"),
    "bladder": word_set(
        "pee peed peeing urinate urinating urine urination orinar orina orine orino pipi "
        "bladder vejiga bowel bowels intestino intestinos poop pooped stool stools popo "
        "heces"
    ),
    "bladprob": word_set(
        "xunable xlostcontrol xunaware accident leaking leak sola cama bed encima empty "
        "vaciar controlar control hold aguantar retener"
    ),
    "soiled": word_set("xsoiled"),
    "confuse": word_set(
        "hallucinating hallucinations alucinando alucina delirando delira slurred slurring drooping chueca arrastrada unconscious inconsciente convulsionando incontinent confused confusion confundido confundida disoriented desorientado desorientada "
        "delirious incoherent xnonsense xunresponsive xnorecognize fainted faint fainting "
        "desmayo desmaye desmayar desmayada desmayado xfaint stroke derrame seizure "
        "convulsion convulsiones lethargic perdido perdida collapsed collapse desplomo "
        "desvanecio"
    ),
    "sleepy": word_set(
        "sleepy drowsy groggy somnolienta somnoliento adormilado adormilada dormida "
        "dormido lethargic"
    ),
    "intense": word_set(
        "very so really too muy mucho demasiado xunable keeps sigue nodding extremely super"
    ),
    "wake": word_set("wake awake despertar despierta despertarlo despertarla"),
    "hardto": word_set("hard difficult dificil"),
    "unknowing": word_set("xunknowing"),
    "where": word_set("where donde day dia who quien what que"),
    "fall": word_set(
        "fell fall falls fallen falling tripped slipped cai cayo caido caida caidas callo "
        "caer caerse caerme resbale resbalo tropece tropezo tumble tumbled stumbled"
    ),
    "calf": word_set("calf calves pantorrilla pantorrillas pantorilla chamorro"),
    "swell": word_set(
        "swollen swelling swelled swell swells puffy bigger hinchada hinchado hinchados "
        "hinchadas hincho hinchando hinchazon inflamada inflamado inflamacion inchada "
        "inchado"
    ),
    "calfprob": word_set("red tender warm hot caliente roja rojo colorada sore"),
    "site": word_set(
        "incision wound cut site herida bandage vendaje curita stitches puntos puncture "
        "needle aguja operated operaron surgery procedure dressing gasa back espalda "
        "cirugia operacion scar cicatriz"
    ),
    "woundprob": word_set(
        "red redness pus ooze oozing drain draining drainage leaking bleeding blood "
        "bloody infected infection smells smell stinks opened open weeping hot warm roja "
        "rojo colorado colorada sangra sangrando sangre supura supurando liquido abrio "
        "abierta infectada infectado infeccion huele caliente enrojecida yellow amarillo "
        "green verde"
    ),
    "woundsolo": word_set(
        "pus xredstreaks bleeding sangrado sangrando sangra redness enrojecimiento supura supurando"
    ),
    "throat": word_set("throat garganta tongue lengua lips labios face cara mouth boca"),
    "closing": word_set("closing closed cierra cerrada cerrando tight apretada"),
    "swallow": word_set("swallow swallowing tragar"),
    "allergy": word_set(
        "rash hives welts allergic allergy alergia alergica alergico ronchas sarpullido "
        "salpullido comezon itching itchy pican urticaria"
    ),
    "fever": word_set(
        "fever fevers feverish fiebre fiebres calentura chills escalofrios escalofrio sweats febril"
    ),
    "painsevere": word_set(
        "crying llorando screaming gritando unbearable insoportable terrible excruciating severe worst worse xoutofcontrol "
        "xkilling muchisimo horrible empeoro empeorando peor awful agony xsobad bad "
        "intense intenso xnotworking xunbearable mucho fuerte fuertisimo horrible"
    ),
    "painsolo": word_set("excruciating insoportable unbearable xunbearable agony xkilling"),
    "lips": word_set("lips labios face cara"),
    "blue": word_set("blue morados morado azul azules gray grey"),
    "emergency": word_set("911 emergency emergencia ambulance ambulancia dying muriendo"),
    "unable": word_set("xunable"),
    "saddle": word_set("groin privates genitals entrepierna buttocks nalgas xwaistdown"),
    "incontinence": word_set("incontinent incontinence incontinencia"),
    "vomit": word_set("vomit vomiting vomited throwing vomitando vomito vomite"),
}
WORDS = WordClasses(_CLASSES)

E, C = Level.EMERGENCY, Level.CALL
# (concept, level, parts): every part a class found in one sentence, close together.
RULES: tuple[tuple[str, Level, tuple[str, ...]], ...] = (
    ("chest", E, ("chest", "hurt")),
    ("chest", E, ("chest", "pressure")),
    ("chest", E, ("heartattack",)),
    ("chest", E, ("heart", "racing")),
    ("chest", E, ("heart", "hurt")),
    ("legs", E, ("saddle", "numb")),
    ("bladder", E, ("incontinence",)),
    ("emergency", E, ("vomit", "blood")),
    ("breathing", E, ("breath", "breathprob")),
    ("breathing", E, ("breathsolo",)),
    ("breathing", E, ("cough", "blood")),
    ("breathing", E, ("lips", "blue")),
    ("allergic", E, ("throat", "swell")),
    ("allergic", E, ("throat", "closing")),
    ("allergic", E, ("swallow", "breathprob")),
    ("confusion", E, ("confuse",)),
    ("confusion", E, ("sleepy", "intense")),
    ("confusion", E, ("unable", "wake")),
    ("confusion", E, ("hardto", "wake")),
    ("confusion", E, ("unknowing", "where")),
    ("legs", E, ("leg", "unable", "movefeel")),
    ("legs", E, ("leg", "legdead")),
    ("legs", E, ("leg", "numb", "unable", "walk")),
    ("bladder", E, ("bladder", "bladprob")),
    ("bladder", E, ("soiled",)),
    ("emergency", E, ("emergency",)),
    ("fever", C, ("fever",)),
    ("calf", C, ("calf", "swell")),
    ("calf", C, ("calf", "hurt")),
    ("calf", C, ("calf", "calfprob")),
    ("calf", C, ("leg", "swell")),
    ("wound", C, ("site", "woundprob")),
    ("wound", C, ("site", "swell")),
    ("wound", C, ("woundsolo",)),
    ("falls", C, ("fall",)),
    ("legs", C, ("numb",)),
    ("legs", C, ("leg", "legsleep")),
    ("legs", C, ("unable", "walk")),
    ("legs", C, ("barely", "walk")),
    ("allergic", C, ("allergy",)),
    ("pain", C, ("hurt", "painsevere")),
    ("pain", C, ("painsolo",)),
)
# When two findings are equally severe, the headline is the one a nurse acts on first.
ORDER = (
    "chest", "breathing", "allergic", "confusion", "legs", "bladder", "emergency", "fever",
    "calf", "wound", "falls", "pain",
)  # fmt: skip
WINDOW = 8  # words: the parts of one finding must lie this close together

_ENDS = word_set(
    ", but pero and y just solo sino though although aunque however except excepto only "
    "nomas mas also tambien plus then luego despues while mientras because porque"
)
_NEGATIONS = word_set(
    "no not without never nor dont doesnt didnt havent hasnt isnt arent wasnt werent "
    "denies deny none nothing sin nunca ni tampoco ningun ninguna ninguno nada negative "
    "free"
)
# "No I have a fever": a NO answering the question, then the words; not a negation.
_AFTER_ANSWER = word_set(
    "i im ive my he hes she shes we they mom dad mi mama papa but pero just the its it"
)
_IF = word_set("if incase whether should would could might cuando caso when")
_STILL = word_set("still again sigo sigue todavia aun worse peor")
_RESOLVED = "xresolved"
_NOT_A_TEMPERATURE = word_set(
    "am pm days day dias dia lbs lb pounds libras mg years anos minutes minutos hours "
    "horas steps pasos dollars dolares miles millas feet pies percent por"
)
_TEMPERATURE_WORDS = word_set(
    "temperature temperatura fever fiebre calentura degrees grados c f thermometer "
    "termometro marca celsius fahrenheit reads read was is es"
)
_PAIN_WORDS = frozenset(_CLASSES["hurt"])


def read_danger(body: str) -> Reading:
    """Every warning sign a text says (present, not negated, not hypothetical), worst first."""
    found: dict[str, Finding] = {}
    for words in plain_words(body, PHRASES):
        for finding in _sentence(words):
            held = found.get(finding.concept)
            if held is None or finding.level > held.level:
                found[finding.concept] = finding
    ordered = sorted(found.values(), key=lambda f: (-f.level, ORDER.index(f.concept)))
    return Reading(tuple(ordered))


def danger(body: str) -> str | None:
    """The headline's words ("chest pain"), or None when the text signals no danger."""
    reading = read_danger(body)
    return reading.headline.said if reading.headline else None


def _sentence(words: list[str]) -> Iterable[Finding]:
    classes = [WORDS.classes_of(w) for w in words]
    for concept, level, parts in RULES:
        places = [[i for i, c in enumerate(classes) if part in c] for part in parts]
        if not all(places):
            continue
        for combo in sorted(itertools.product(*places), key=lambda p: max(p) - min(p))[:50]:
            if len(set(combo)) != len(combo) or max(combo) - min(combo) > WINDOW:
                continue
            verdict = _judge(words, combo, level, concept)
            if verdict is not None:
                said = " ".join(w for w in words[min(combo) : max(combo) + 1] if w != ",")
                yield Finding(concept, verdict, _readable(said))
                break
    yield from _numbers(words)


def _judge(words: list[str], combo: tuple[int, ...], level: Level, concept: str) -> Level | None:
    """The level a match counts for, or None when negated, hypothetical or over."""
    end = max(combo)
    start = _clause_start(words, end)
    before = range(start, end)
    for k in before:
        if k in combo:
            continue
        doubled = k > start and words[k - 1] in (
            "xunable",
            "sentir",
            "feel",
        )  # "cant feel anything"
        if words[k] in _NEGATIONS and not doubled and not _answer_no(words, k):
            return None
        if words[k] in _IF or (words[k] == "si" and k > start and words[k - 1] in SI_IF):
            return None
    if concept != "falls" and _resolved(words, min(combo), end):
        return Level.CALL if level is Level.EMERGENCY else None
    return level


def _clause_start(words: list[str], end: int) -> int:
    k = end
    while k > 0 and words[k - 1] not in _ENDS:
        k -= 1
    return k


def _clause_end(words: list[str], start: int) -> int:
    k = start
    while k < len(words) and words[k] not in _ENDS:
        k += 1
    return k


def _answer_no(words: list[str], k: int) -> bool:
    """A "no" that answers the question ("No I have a fever"), not one that negates."""
    return (
        words[k] == "no"
        and k + 1 < len(words)
        and words[k + 1] in _AFTER_ANSWER
        and (k == 0 or words[k - 1] in _ENDS)
    )


def _resolved(words: list[str], first: int, end: int) -> bool:
    """Over: a marker of resolution in the finding's clause or later in the sentence."""
    start = _clause_start(words, first)
    stop = _clause_end(words, end)
    if any(w in _STILL for w in words[start:stop]):
        return False
    return _RESOLVED in words[start:stop] or _RESOLVED in words[end + 1 :]


def _numbers(words: list[str]) -> Iterable[Finding]:
    """Temperatures (100.4F / 38C and up) and pain scores of 8 or more written as numbers."""
    has_pain_word = any(w in _PAIN_WORDS for w in words)
    has_temp_word = any(w in _TEMPERATURE_WORDS for w in words)
    for i, word in enumerate(words):
        score = re.fullmatch(r"score(\d+)", word)
        value = _value(word)
        after = words[i + 1] if i + 1 < len(words) else ""
        if score and 8 <= int(score[1]) <= 10:
            verdict = _judge(words, (i,), Level.CALL, "pain")
            if verdict:
                yield Finding("pain", verdict, f"pain {score[1]}/10")
            continue
        if value is None or after in _NOT_A_TEMPERATURE:
            continue
        if value.is_integer() and 8 <= value <= 10 and has_pain_word:
            verdict = _judge(words, (i,), Level.CALL, "pain")
            if verdict:
                yield Finding("pain", verdict, f"pain {int(value)}/10")
            continue
        decimal = "p" in word
        fahrenheit = FEVER_F <= value <= 110
        celsius = FEVER_C <= value <= 43 and (decimal or has_temp_word or after == "c")
        if fahrenheit or celsius:
            verdict = _judge(words, (i,), Level.CALL, "fever")
            if verdict:
                unit = "F" if fahrenheit else "C"
                yield Finding("fever", verdict, f"temperature {_shown(value)}{unit}")


def _value(word: str) -> float | None:
    if not re.fullmatch(r"\d+(?:p\d+)?", word):
        return None
    return float(word.replace("p", "."))


def _shown(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value)


def _readable(said: str) -> str:
    """Our own rewrite tokens back into words staff can read."""
    return re.sub(r"\bx(\w+)", lambda m: _TOKENS.get(m[1], m[1]), said)


_TOKENS = {
    "unable": "cannot",
    "heartattack": "heart attack",
    "unbearable": "unbearable",
    "notworking": "not working",
    "lostcontrol": "lost control",
    "unaware": "without noticing",
    "unknowing": "does not know",
    "norecognize": "does not recognize",
    "nonsense": "not making sense",
    "unresponsive": "not responding",
    "nofeeling": "no feeling",
    "nostrength": "no strength",
    "giveout": "give out",
    "giveway": "give way",
    "breathless": "short of breath",
    "outofcontrol": "out of control",
    "killing": "killing me",
    "sobad": "so bad",
    "redstreaks": "red streaks",
    "soiled": "wet or soiled themselves",
    "blue": "turning blue",
    "faint": "passed out",
    "waistdown": "from the waist down",
}
