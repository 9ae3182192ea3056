"""Red flags: an escalation opens and its first page to the on-call contact is queued at once."""

from __future__ import annotations

import logging
from datetime import datetime

from reminders.adapters.db.enrollments.contact_repository import PhoneMatch
from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.adapters.rendering import MessageRenderer
from reminders.domain.inbound.oncall import Step, ack_code
from reminders.domain.planning.timing import zone_named
from reminders.services.content import Clinic, clinic_context, render_text
from reminders.services.replies.oncall import OnCall

log = logging.getLogger("reminders.escalation")


def raise_red_flag(
    uow: UnitOfWork,
    *,
    patient: PhoneMatch,
    phone: str,
    checkin_id: int | None,
    inbound_id: int,
    reason: str,
    reply: str,
    oncall: OnCall,
    renderer: MessageRenderer,
    clinic: Clinic,
    public_url: str,
    now: datetime,
) -> tuple[int, list[int]]:
    """Open an escalation and queue one alert per on-call contact, in the caller's transaction."""
    code = ack_code()
    while uow.escalations.escalation_by_code(code) is not None:  # 31^4 codes: rarely twice
        code = ack_code()
    primary, backup = oncall.contacts(now)
    escalation_id = uow.escalations.add_escalation(
        enrollment_id=patient.enrollment_id,
        checkin_id=checkin_id,
        inbound_id=inbound_id,
        kind="red_flag",
        reason=reason,
        created_at=now,
        updated_at=now,
        code=code,
        pages=1,
        # Nobody to page at all: there is no ladder to climb, the inbox says so.
        next_page_at=now + oncall.ack if (primary or backup) else None,
    )
    context = {
        "clinic": clinic_context(clinic),
        "patient": {
            "short_name": f"{patient.first_name} {patient.last_name[:1]}.",
            "name": f"{patient.first_name} {patient.last_name}",
            "phone": phone,
        },
        "enrollment_id": patient.enrollment_id,
        "reason": reason,
        "reply": reply[:300],
        "received": now.astimezone(zone_named(patient.timezone)).strftime("%a %b %-d %-I:%M %p %Z"),
        "link": f"{public_url}/staff/inbox#escalation-{escalation_id}",
        "code": code,
    }
    ids: list[int] = []
    common = {
        "escalation_id": escalation_id,
        "kind": "oncall_alert",
        "language": "en",
        "step": Step.PAGE.value,
    }
    contact = primary or backup
    if contact is not None and contact.phone:
        body = render_text(renderer, "staff/oncall.sms.j2", **context)
        ids.append(
            uow.notifications.add_notification(
                now=now, channel="sms", recipient=contact.phone, body=body, **common
            )
        )
    if contact is not None and contact.email:
        ids.append(
            uow.notifications.add_notification(
                now=now,
                channel="email",
                recipient=contact.email,
                subject=render_text(renderer, "staff/oncall.subject.j2", **context),
                body=renderer.text_env.get_template("replies/staff/oncall.email.j2")
                .render(**context)
                .strip(),
                **common,
            )
        )
    if not ids:
        uow.escalations.add_note(
            escalation_id,
            "Nobody was alerted: set REMINDERS_ONCALL_PHONE, REMINDERS_ONCALL_EMAIL"
            " or REMINDERS_ONCALL_ROTA.",
            now=now,
        )
        log.error("red flag %s: no on-call contact is configured", escalation_id)
    return escalation_id, ids
