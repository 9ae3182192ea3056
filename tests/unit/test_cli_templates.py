"""`reminders templates check`: OK on a good tree, each problem on its own line and exit 1."""

from pathlib import Path

import pytest
from click.testing import CliRunner
from unit.test_template_check import GOOD, PLAN

from reminders.entrypoints.cli.main import main
from reminders.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """A care plan and its templates under tmp_path; the command reads them through settings."""
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "demo.toml").write_text(PLAN, encoding="utf-8")
    for name, text in GOOD.items():
        path = tmp_path / "templates" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    settings = Settings(
        REMINDERS_CARE_PLANS_DIR=tmp_path / "plans",
        REMINDERS_TEMPLATES_DIR=tmp_path / "templates",
        REMINDERS_CLINIC_NAME="Dr. Taqi Spine Care",
        REMINDERS_CLINIC_PHONE="805-242-4884",
        REMINDERS_DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none",  # never used
    )
    monkeypatch.setattr("reminders.entrypoints.cli.templates.get_settings", lambda: settings)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def check():
    return CliRunner().invoke(main, ["templates", "check"])


def test_a_good_tree_is_ok_and_counts_what_it_checked(tree):
    r = check()
    assert r.exit_code == 0, r.output
    # hello and pain, in en and es, each as sms, subject and email: 12 templates.
    lines = r.stdout.splitlines()
    assert lines[0] == "checked 12 templates in 1 plans, 2 languages: OK"
    # Spanish is sent, so the clinic is told what to add to Twilio's Advanced Opt-Out.
    assert "Twilio Advanced Opt-Out" in lines[1]
    assert lines[2:] == [
        "  es: opt-out PARAR, CANCELAR, BAJA, ALTO; opt-in COMENZAR, ALTA; help AYUDA"
    ]


def test_an_english_only_tree_has_no_twilio_words_to_add(tree):
    plan = tree / "plans" / "demo.toml"
    plan.write_text(plan.read_text().replace('languages = ["en", "es"]', 'languages = ["en"]'))
    for spanish in (tree / "templates" / "messages" / "demo" / "es").iterdir():
        spanish.unlink()  # unused templates fail the check
    r = check()
    assert r.exit_code == 0, r.output
    assert r.stdout == "checked 6 templates in 1 plans, 1 languages: OK\n"


def test_the_clinics_own_templates_pass(monkeypatch):
    monkeypatch.setattr(
        "reminders.entrypoints.cli.templates.get_settings",
        lambda: Settings(
            REMINDERS_CARE_PLANS_DIR=ROOT / "config" / "care_plans",
            REMINDERS_TEMPLATES_DIR=ROOT / "templates",
        ),
    )
    r = check()
    assert r.exit_code == 0, r.output
    assert "in 2 plans, 2 languages: OK\n" in r.stdout
    assert "es: opt-out PARAR, CANCELAR, BAJA, ALTO" in r.stdout


def test_each_broken_template_is_named_under_the_templates_folder(tree):
    sms = tree / "templates" / "messages" / "demo" / "en" / "hello.sms.j2"
    sms.write_text("Rest today, {{ patient.nickname }}.", encoding="utf-8")
    (tree / "templates" / "messages" / "demo" / "es" / "pain.subject.j2").unlink()
    r = check()
    assert r.exit_code == 1
    lines = r.stdout.splitlines()
    assert len(lines) == 2, lines
    assert any(
        line.startswith("templates/messages/demo/en/hello.sms.j2") and "nickname" in line
        for line in lines
    )
    assert any("messages/demo/es/pain.subject.j2" in line for line in lines)
    assert r.stderr == "2 problem(s) in message templates\n"


def test_a_step_without_a_title_in_a_staff_language_fails(tree):
    plan = tree / "plans" / "demo.toml"
    plan.write_text(PLAN.replace(', es = "Control: dolor"', ""), encoding="utf-8")
    r = check()
    assert r.exit_code == 1
    assert r.stdout == "plans: demo: pain: no title in es\n"
    assert r.stderr.startswith("1 step(s) without a title in a staff language (en, es)")
    plan.write_text(
        PLAN.replace('title = { en = "Rest and walking", es = "Descanso y caminar" }\n', "")
    )
    r = check()
    assert r.exit_code == 1
    assert r.stdout == "plans: demo: hello: no title in en\nplans: demo: hello: no title in es\n"


def test_a_broken_plan_or_no_plan_at_all_is_exit_2(tree):
    (tree / "plans" / "demo.toml").write_text(PLAN.replace('at = "+2h"', 'at = "soon"'))
    r = check()
    assert r.exit_code == 2
    assert r.stderr.startswith(f"error: {tree / 'plans' / 'demo.toml'}: step 1: hello: 'soon'")
    (tree / "plans" / "demo.toml").unlink()
    r = check()
    assert (r.exit_code, r.stderr) == (2, f"error: no care plans in {tree / 'plans'}\n")
