"""The terminal views: a plan preview and an enrollment, in the patient's local time."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from reminders.adapters.care_plans import CarePlanLibrary
from reminders.adapters.rendering import MessageRenderer
from reminders.domain.model import (
    Channel,
    Consent,
    ConsentMethod,
    Enrollment,
    MessageStatus,
    Patient,
    ProcedureRecord,
    ScheduledMessage,
)
from reminders.domain.planning.schedule import SchedulePolicy
from reminders.entrypoints.cli.formatting import format_enrollment, format_preview
from reminders.services.content import Clinic
from reminders.services.enrollments.planning import preview_plan

ROOT = Path(__file__).resolve().parents[2]
PERFORMED = datetime(2026, 5, 4, 14, 0, tzinfo=UTC)  # Monday 07:00 in Los Angeles


def preview(**kw):
    return preview_plan(
        "kyphoplasty",
        performed_at=PERFORMED,
        timezone="America/Los_Angeles",
        plans=CarePlanLibrary(ROOT / "config" / "care_plans"),
        renderer=MessageRenderer(ROOT / "templates"),
        policy=SchedulePolicy(),
        clinic=Clinic("Dr. Taqi Spine Care", "805-242-4884"),
        **kw,
    )


def test_a_preview_heads_with_the_plan_and_counts_then_one_block_a_message():
    p = preview()
    lines = format_preview(p).splitlines()
    assert lines[0] == (
        "kyphoplasty plan for a procedure on Mon 2026-05-04 07:00 PDT (America/Los_Angeles)"
    )
    scheduled = [r for r in p.rows if r.message.status is MessageStatus.SCHEDULED]
    texts = sum(r.message.channel is Channel.SMS for r in scheduled)
    assert lines[1] == (
        f"language en; levels 1; home the same day; {len(scheduled)} messages"
        f" ({texts} SMS, {len(scheduled) - texts} email)"
    )
    assert lines[2] == ""
    first = p.rows[0]
    head = next(line for line in lines if line.startswith(first.local_time.strftime("%a %Y")))
    assert f"day {first.day:<3}" in head and first.message.step_key in head
    sms = next(r for r in p.rows if r.message.channel is Channel.SMS)
    assert sms.size is not None
    assert f"[{sms.size.segments} segment" in format_preview(p)
    assert any(line.startswith("    Subject: ") for line in lines)
    assert all(len(line) <= 110 for line in lines[3:]), "texts wrap for a terminal"


def test_the_spanish_title_and_an_overnight_stay_show_in_the_heading():
    lines = format_preview(preview(language="es", overnight=True, levels=2)).splitlines()
    assert lines[0].startswith("cifoplastia plan for a procedure on")
    assert lines[1].startswith("language es; levels 2; overnight stay;")


def message(mid, status, reason=None, channel=Channel.SMS, hours=2):
    at = PERFORMED + timedelta(hours=hours)
    return ScheduledMessage(
        step_key="first_hours",
        parts=("first_hours",),
        channel=channel,
        category="first_hours",
        send_at=at,
        deadline=at + timedelta(hours=6),
        status=status,
        status_reason=reason,
        id=mid,
    )


def test_an_enrollment_shows_who_what_consent_and_every_message_with_its_reason():
    e = Enrollment(
        id=7,
        status="active",
        idempotency_key="k",
        patient=Patient(
            "Ana", "Lopez", "+18055550142", "ana@example.org", "es", "America/Los_Angeles"
        ),
        procedure=ProcedureRecord("kyphoplasty", PERFORMED, 2, True, "EPIC-77"),
        consents=[
            Consent(Channel.SMS, True, ConsentMethod.WRITTEN, "nurse.kim", PERFORMED),
            Consent(Channel.EMAIL, True, ConsentMethod.VERBAL, "api", PERFORMED),
        ],
        messages=[
            message(41, MessageStatus.SENT),
            message(42, MessageStatus.SKIPPED, "quiet hours", Channel.EMAIL, hours=30),
        ],
    )
    assert format_enrollment(e).splitlines() == [
        "Enrollment 7 [active]: Ana Lopez <+18055550142, ana@example.org>, es, America/Los_Angeles",
        "kyphoplasty on Mon 2026-05-04 07:00 PDT, levels 2, overnight, EHR id EPIC-77",
        "consent: sms (written, by nurse.kim), email (verbal, by api)",
        "",
        "  #41     Mon 2026-05-04 09:00 PDT   SMS   sent       first_hours",
        "  #42     Tue 2026-05-05 13:00 PDT   EMAIL skipped    first_hours  (quiet hours)",
    ]


def test_an_enrollment_without_email_or_ehr_id_leaves_them_out():
    e = Enrollment(
        id=8,
        status="cancelled",
        idempotency_key="k",
        patient=Patient("Luis", "Garcia", "+18055550199", None, "en", "America/New_York"),
        procedure=ProcedureRecord("vertebroplasty", PERFORMED),
        consents=[],
    )
    lines = format_enrollment(e).splitlines()
    assert lines[0] == "Enrollment 8 [cancelled]: Luis Garcia <+18055550199>, en, America/New_York"
    assert lines[1] == "vertebroplasty on Mon 2026-05-04 10:00 EDT, levels 1"
