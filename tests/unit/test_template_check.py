"""check_templates on small broken trees: each kind of problem is found and named."""

from pathlib import Path

import pytest

from reminders.adapters.care_plans import CarePlanLibrary
from reminders.adapters.rendering import MessageRenderer
from reminders.checks.template_check import check_templates
from reminders.services.content import Clinic

CLINIC = Clinic("Dr. Taqi Spine Care", "805-242-4884")
PREFIX = f"{CLINIC.name}: "
OPT_OUT = " Reply STOP to opt out."
ROOM = 160 - len(PREFIX) - len(OPT_OUT)  # what an English SMS body may use

PLAN = """
procedure = "demo"
languages = ["en", "es"]
[title]
en = "kyphoplasty"
es = "cifoplastia"
[sms_segments]
en = 1
es = 3
[variables]
fever_f = "100.4"
[[steps]]
key = "hello"
title = { en = "Rest and walking", es = "Descanso y caminar" }
category = "rest"
at = "+2h"
[[steps]]
key = "pain"
title = { en = "Check-in: pain", es = "Control: dolor" }
category = "checkin"
at = "+26h"
checkin = "pain"
"""

GOOD = {
    "layouts/email.html.j2": "<p>{{ clinic.name }}</p>{% for b in blocks %}{{ b.text }}{% endfor %}",
    "layouts/en/sms.j2": "{{ clinic.name }}: {{ body }}{% if first %} Reply STOP to opt out.{% endif %}",
    "layouts/en/email.txt.j2": 'Hello {{ patient.first_name }},\n\n{{ body }}\n\n{% include "layouts/en/emergency.j2" %}',
    "layouts/en/emergency.j2": "Messages are not read 24/7. In an emergency, call 911.",
    "layouts/es/sms.j2": "{{ clinic.name }}: {{ body }}{% if first %} Responda STOP para cancelar.{% endif %}",
    "layouts/es/email.txt.j2": 'Hola, {{ patient.first_name }}:\n\n{{ body }}\n\n{% include "layouts/es/emergency.j2" %}',
    "layouts/es/emergency.j2": "No leemos los mensajes las 24 horas. Emergencias: llame al 911.",
    "messages/demo/en/hello.sms.j2": "Rest today and walk a little. Call us at {{ clinic.phone }} if you feel worse.",
    "messages/demo/en/hello.subject.j2": "Rest today",
    "messages/demo/en/hello.email.j2": "Rest today. Walk a little each hour.\n\n- Call us at {{ clinic.phone }} if you feel worse.\n- Call us if you have a fever of {{ v.fever_f }} F.",
    "messages/demo/en/pain.sms.j2": 'How bad is your pain, 0 to 10? Reply with one number. {% include "layouts/en/emergency.j2" %}',
    "messages/demo/en/pain.subject.j2": "How is your pain?",
    "messages/demo/en/pain.email.j2": "How bad is your pain, 0 to 10? Answer our text with one number. Call us at {{ clinic.phone }} if it is bad.",
    "messages/demo/es/hello.sms.j2": "Descanse hoy y camine un poco. Llame al {{ clinic.phone }} si se siente peor.",
    "messages/demo/es/hello.subject.j2": "Descanse hoy",
    "messages/demo/es/hello.email.j2": "Descanse hoy. Camine un poco cada hora.\n\n- Llámenos al {{ clinic.phone }} si se siente peor.\n- Llámenos si tiene fiebre de {{ v.fever_f }} F.",
    "messages/demo/es/pain.sms.j2": '¿Dolor hoy, 0 a 10? Responda con un numero. {% include "layouts/es/emergency.j2" %}',
    "messages/demo/es/pain.subject.j2": "¿Cómo está su dolor?",
    "messages/demo/es/pain.email.j2": "¿Cuánto dolor tiene, de 0 a 10? Conteste el mensaje de texto con un número. Llámenos al {{ clinic.phone }} si es fuerte.",
}


def check(tmp_path: Path, changes: dict[str, str | None] | None = None, plan: str = PLAN):
    """Write the good tree with some files changed (None deletes one), then check it."""
    files = {**GOOD, **(changes or {})}
    (tmp_path / "plans").mkdir(parents=True)
    (tmp_path / "plans" / "demo.toml").write_text(plan, encoding="utf-8")
    for name, text in files.items():
        if text is not None:
            path = tmp_path / "templates" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return check_templates(
        plans=CarePlanLibrary(tmp_path / "plans"),
        renderer=MessageRenderer(tmp_path / "templates"),
        clinic=CLINIC,
    )


def only(problems):
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def test_a_good_tree_passes(tmp_path):
    assert check(tmp_path) == []


def test_an_undefined_variable_names_the_template_and_line(tmp_path):
    p = only(
        check(tmp_path, {"messages/demo/en/hello.email.j2": "Rest today.\n\nWalk {{ v.nope }}."})
    )
    assert (p.template, p.line) == ("messages/demo/en/hello.email.j2", 3)
    assert "undefined" in p.message and "nope" in p.message
    assert str(p).startswith("messages/demo/en/hello.email.j2:3: undefined")


def test_an_undefined_variable_in_an_included_layout_names_the_layout(tmp_path):
    p = only(
        check(tmp_path, {"layouts/en/emergency.j2": "Not read 24/7.\n{{ clinic.fax }} or 911."})
    )
    assert (p.template, p.line) == ("layouts/en/emergency.j2", 2)


def test_a_syntax_error_names_the_line(tmp_path):
    p = only(
        check(tmp_path, {"messages/demo/es/hello.subject.j2": "Descanse\n{% if discreet %}hoy"})
    )
    assert p.template == "messages/demo/es/hello.subject.j2"
    assert p.line == 2 and "syntax" in p.message


def test_an_sms_over_its_budget_fails_with_its_size(tmp_path):
    p = only(
        check(tmp_path, {"messages/demo/en/hello.sms.j2": "Rest today. " + "Walk a bit. " * 10})
    )
    assert p.template == "messages/demo/en/hello.sms.j2"
    assert "2 segments" in p.message and "GSM-7" in p.message


def fill(text: str, room: int = ROOM) -> str:
    """Pad a plain sentence to exactly `room` characters."""
    return text + " " + "x" * (room - len(text) - 2) + "."


def test_a_full_sms_of_160_gsm7_characters_fits(tmp_path):
    body = fill("Rest today and walk a little. Call us if you feel worse and need help now")
    assert len(PREFIX + body + OPT_OUT) == 160
    assert check(tmp_path, {"messages/demo/en/hello.sms.j2": body}) == []


def test_a_gsm7_extension_character_counts_twice(tmp_path):
    body = fill("Rest today and walk a little. Call us if you feel worse and need help now €", ROOM)
    p = only(check(tmp_path, {"messages/demo/en/hello.sms.j2": body}))
    assert "2 segments (GSM-7, 161 characters" in p.message


def test_one_ucs2_character_makes_the_whole_sms_ucs2_and_is_named(tmp_path):
    body = "Don’t lift, bend or twist today. Walk a little. Call us if you feel worse."
    p = only(check(tmp_path, {"messages/demo/en/hello.sms.j2": body}))
    assert "UCS-2" in p.message and "because of ’" in p.message


def test_spanish_letters_in_gsm7_do_not_force_ucs2(tmp_path):
    # ñ, é, ¿ and ¡ are in the GSM-7 alphabet: this text stays GSM-7 and fits 1 segment.
    plan = PLAN.replace("es = 3", "es = 1")
    body = "¡Descanse hoy! ¿Le duele? Llame al {{ clinic.phone }}. Mañana camine un poco, despacio."
    assert check(tmp_path, {"messages/demo/es/hello.sms.j2": body}, plan) == []
    # One á makes it UCS-2: 2 segments, over the budget of 1.
    accented = {"messages/demo/es/hello.sms.j2": body.replace("Mañana", "Mañana más")}
    problems = check(tmp_path / "accented", accented, plan)
    assert [p.template for p in problems] == ["messages/demo/es/hello.sms.j2"]
    assert "because of á" in problems[0].message


def test_a_missing_spanish_template_fails(tmp_path):
    p = only(check(tmp_path, {"messages/demo/es/pain.email.j2": None}))
    assert p.template == "messages/demo/es/pain.email.j2"
    assert p.message.startswith("missing") and "es" in p.message


def test_a_checkin_sms_without_the_emergency_line_fails(tmp_path):
    p = only(check(tmp_path, {"messages/demo/en/pain.sms.j2": "How bad is your pain, 0 to 10?"}))
    assert p.template == "messages/demo/en/pain.sms.j2"
    assert "emergency line" in p.message


def test_an_emergency_line_without_911_fails(tmp_path):
    problems = check(tmp_path, {"layouts/es/emergency.j2": "No leemos los mensajes las 24 horas."})
    assert any(p.template == "layouts/es/emergency.j2" and "911" in p.message for p in problems)


def test_a_checkin_email_layout_without_the_emergency_line_fails(tmp_path):
    problems = check(tmp_path, {"layouts/en/email.txt.j2": "Hello,\n\n{{ body }}"})
    assert [p.template for p in problems] == ["messages/demo/en/pain.email.j2"]


def test_a_first_sms_without_opt_out_words_fails(tmp_path):
    p = only(check(tmp_path, {"layouts/en/sms.j2": "{{ clinic.name }}: {{ body }}"}))
    assert p.template == "layouts/en/sms.j2" and "STOP" in p.message


def test_an_email_without_a_text_part_fails(tmp_path):
    p = only(check(tmp_path, {"messages/demo/en/hello.email.j2": "{% if false %}Rest.{% endif %}"}))
    assert p.template == "messages/demo/en/hello.email.j2" and "text part" in p.message


def test_a_text_above_6th_grade_fails(tmp_path):
    hard = (
        "Postoperative vertebral augmentation necessitates considerable physiological "
        "recuperation; consequently, strenuous occupational responsibilities should be "
        "postponed until radiological evaluation confirms satisfactory consolidation."
    )
    p = only(check(tmp_path, {"messages/demo/en/hello.email.j2": hard}))
    assert p.template == "messages/demo/en/hello.email.j2" and "grade" in p.message


def test_a_discreet_sms_must_not_name_the_procedure(tmp_path):
    body = "After your kyphoplasty, rest today. Call us at {{ clinic.phone }} if you feel worse."
    p = only(check(tmp_path, {"messages/demo/en/hello.sms.j2": body}))
    assert "discreet" in p.message
    guarded = "{% if not discreet %}After your kyphoplasty, rest{% else %}Rest{% endif %} today. Call us at {{ clinic.phone }} if you feel worse."
    assert check(tmp_path / "again", {"messages/demo/en/hello.sms.j2": guarded}) == []


@pytest.mark.parametrize("branch", ["procedure.overnight", "procedure.levels > 1", "discreet"])
def test_every_branch_is_rendered(tmp_path, branch):
    body = f"Rest today.{{% if {branch} %}} {{{{ v.only_in_a_branch }}}}{{% endif %}} Walk a little and call us if you feel worse."
    p = only(check(tmp_path, {"messages/demo/en/hello.sms.j2": body}))
    assert "undefined" in p.message and p.line == 1


def test_a_template_no_step_uses_is_reported(tmp_path):
    (tmp_path / "templates" / "messages" / "demo" / "en").mkdir(parents=True)
    (tmp_path / "templates" / "messages" / "demo" / "en" / "helo.sms.j2").write_text("Typo")
    p = only(check(tmp_path))
    assert p.template == "messages/demo/en/helo.sms.j2" and "unused" in p.message
