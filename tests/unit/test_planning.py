"""preview_plan: what a patient would receive, dated in their zone and rendered; stored nowhere."""

import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from reminders.adapters.care_plans import CarePlanLibrary
from reminders.adapters.rendering import MessageRenderer
from reminders.domain.errors import ReminderError, UnknownProcedure, UnsupportedLanguage
from reminders.domain.model import Channel, MessageStatus
from reminders.domain.planning.schedule import SchedulePolicy
from reminders.services.content import Clinic
from reminders.services.enrollments.planning import preview_plan

ROOT = Path(__file__).resolve().parents[2]
PLANS = CarePlanLibrary(ROOT / "config" / "care_plans")
RENDERER = MessageRenderer(ROOT / "templates")
CLINIC = Clinic("Dr. Taqi Spine Care", "805-242-4884")
LA = ZoneInfo("America/Los_Angeles")


def preview(procedure="kyphoplasty", *, renderer=RENDERER, **kw):
    kw.setdefault("performed_at", datetime(2026, 5, 4, 7, 0))  # Monday 07:00, naive: local
    kw.setdefault("timezone", "America/Los_Angeles")
    return preview_plan(
        procedure,
        plans=PLANS,
        renderer=renderer,
        policy=SchedulePolicy(),
        clinic=CLINIC,
        **kw,
    )


def test_a_preview_dates_every_message_in_the_patients_zone_and_renders_it():
    p = preview()
    assert p.procedure.performed_at == datetime(2026, 5, 4, 14, 0, tzinfo=UTC)
    assert p.patient.timezone == "America/Los_Angeles" and p.patient.last_name == "Preview"
    assert p.rows, "a plan preview with no messages shows nothing"
    assert [r.message.send_at for r in p.rows] == sorted(r.message.send_at for r in p.rows)
    for r in p.rows:
        assert r.local_time == r.message.send_at.astimezone(LA)
        assert r.day == (r.local_time.date() - datetime(2026, 5, 4).date()).days
        assert r.text.strip()
        if r.message.status is MessageStatus.SCHEDULED:
            assert 8 <= r.local_time.hour < 21, "nothing is planned in quiet hours"
    texts = [r for r in p.rows if r.message.channel is Channel.SMS]
    emails = [r for r in p.rows if r.message.channel is Channel.EMAIL]
    assert texts and emails
    assert all(r.size is not None and r.size.segments >= 1 for r in texts)
    assert all(r.size is None for r in emails)
    assert texts[0].text.startswith(f"{CLINIC.name}: ")
    assert "STOP" in texts[0].text  # the first text says how to opt out
    assert texts[0].day == 0


def test_the_preview_is_in_the_language_asked_for():
    english = preview()
    spanish = preview(language="es", first_name="Maria")
    assert spanish.patient.language == "es" and spanish.patient.first_name == "Maria"
    assert [r.message.step_key for r in spanish.rows] == [r.message.step_key for r in english.rows]
    assert spanish.rows[0].text != english.rows[0].text


def test_email_only_has_no_texts_and_no_phone():
    p = preview(channels=(Channel.EMAIL,))
    assert {r.message.channel for r in p.rows} == {Channel.EMAIL}
    assert p.patient.phone is None and p.patient.email


def test_a_time_with_an_offset_is_kept_and_an_overnight_stay_changes_the_plan():
    aware = datetime(2026, 5, 4, 14, 0, tzinfo=UTC)
    same_day = preview(performed_at=aware)
    overnight = preview(performed_at=aware, overnight=True)
    assert same_day.procedure.performed_at == aware
    assert overnight.procedure.overnight is True
    assert {r.message.step_key for r in same_day.rows} != {
        r.message.step_key for r in overnight.rows
    }


def test_wrong_choices_are_refused_with_what_to_choose():
    with pytest.raises(UnsupportedLanguage, match="'fr' is not offered for kyphoplasty"):
        preview(language="fr")
    with pytest.raises(ReminderError, match="choose at least one channel") as info:
        preview(channels=())
    assert info.value.field == "channels"
    with pytest.raises(UnknownProcedure, match="known procedures: kyphoplasty"):
        preview("laminectomy")


def test_a_broken_template_is_named_with_its_step_and_channel(tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    first_sms = next(r for r in preview().rows if r.message.channel is Channel.SMS)
    step = first_sms.message.parts[0]
    (templates / "messages" / "kyphoplasty" / "en" / f"{step}.sms.j2").write_text(
        "{{ nope.nothing }}", encoding="utf-8"
    )
    with pytest.raises(ReminderError) as info:
        preview(renderer=MessageRenderer(templates))
    assert info.value.message.startswith(f"template problem in {first_sms.message.step_key} (sms)")
