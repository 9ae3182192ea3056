"""Plain-text views of a plan preview and an enrollment, for the terminal."""

from __future__ import annotations

import textwrap

from reminders.domain.model import Channel, Enrollment, MessageStatus
from reminders.domain.planning.timing import zone_named
from reminders.services.enrollments.planning import PlanPreview

TIME = "%a %Y-%m-%d %H:%M %Z"


def format_preview(preview: PlanPreview) -> str:
    zone = zone_named(preview.patient.timezone)
    proc = preview.procedure
    performed = proc.performed_at.astimezone(zone)
    scheduled = [r for r in preview.rows if r.message.status is MessageStatus.SCHEDULED]
    sms = [r for r in scheduled if r.message.channel is Channel.SMS]
    lines = [
        f"{preview.plan.title.get(preview.patient.language, proc.procedure)} plan"
        f" for a procedure on {performed.strftime(TIME)} ({zone.key})",
        f"language {preview.patient.language}; levels {proc.levels};"
        f" {'overnight stay' if proc.overnight else 'home the same day'};"
        f" {len(scheduled)} messages ({len(sms)} SMS,"
        f" {len(scheduled) - len(sms)} email)",
        "",
    ]
    for row in preview.rows:
        m = row.message
        detail = ""
        if row.size is not None:
            plural = "s" if row.size.segments != 1 else ""
            detail = f"  [{row.size.segments} segment{plural}, {row.size.encoding}, {row.size.units} chars]"
        if m.status is not MessageStatus.SCHEDULED:
            status = f"  {m.status.upper()}: {m.status_reason}"
        else:  # a scheduled row with a reason is a late step caught up: say why it is late
            status = f"  ({m.status_reason})" if m.status_reason else ""
        to = "  TO CAREGIVER" if m.kind == "caregiver" else ""
        lines.append(
            f"{row.local_time.strftime(TIME):<26} day {row.day:<3} {m.channel.value.upper():<5}"
            f" {m.step_key}{to}{detail}{status}"
        )
        prefix = "    " if m.channel is Channel.SMS else "    Subject: "
        lines.extend(textwrap.wrap(row.text, 96, initial_indent=prefix, subsequent_indent="    "))
    return "\n".join(lines)


def format_enrollment(enrollment: Enrollment) -> str:
    p, proc = enrollment.patient, enrollment.procedure
    zone = zone_named(p.timezone)
    contact = ", ".join(x for x in (p.phone, p.email) if x)
    consent = ", ".join(
        f"{c.channel.value} ({c.method.value}, by {c.recorded_by})" for c in enrollment.consents
    )
    lines = [
        f"Enrollment {enrollment.id} [{enrollment.status}]: {p.first_name} {p.last_name}"
        f" <{contact}>, {p.language}, {zone.key}",
        f"{proc.procedure} on {proc.performed_at.astimezone(zone).strftime(TIME)},"
        f" levels {proc.levels}{', overnight' if proc.overnight else ''}"
        + (f", EHR id {proc.external_id}" if proc.external_id else ""),
        f"consent: {consent}",
    ]
    if cg := enrollment.caregiver:
        reach = ", ".join(
            f"{ch} {x}"
            for ch, x, ok in (
                ("sms", cg.phone, cg.sms_consent),
                ("email", cg.email, cg.email_consent),
            )
            if x and ok
        )
        lines.append(
            f"caregiver: {cg.name}"
            + (f" ({cg.relationship})" if cg.relationship else "")
            + f", {cg.language}, consent to {reach or 'nothing'}"
        )
    lines.append("")
    for m in enrollment.messages:
        reason = f"  ({m.status_reason})" if m.status_reason else ""
        to = " to caregiver" if m.kind == "caregiver" else ""
        lines.append(
            f"  #{m.id:<6} {m.send_at.astimezone(zone).strftime(TIME):<26}"
            f" {m.channel.value.upper():<5} {m.status.value:<10} {m.step_key}{to}{reason}"
        )
    return "\n".join(lines)
