"""Red flags: an escalation opens and its first page to the on-call contact is queued at once.

Both are in the audit log (`red_flag`, `escalation_page`). During a gap in the rota the
fallback contact is paged at once and the note says who comes on duty next; with nobody
to page now, the ladder's next rung is set to the next shift's start.
"""

from __future__ import annotations

import logging
from datetime import datetime

from reminders.adapters.db.enrollments.contact_repository import PhoneMatch
from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.adapters.rendering import MessageRenderer
from reminders.domain.inbound.oncall import Contact, Step, ack_code
from reminders.domain.planning.timing import zone_named
from reminders.services import audit
from reminders.services.content import Clinic, clinic_context, render_text
from reminders.services.replies.oncall import OnCall

log = logging.getLogger("reminders.escalation")


def _channels(contact: Contact | None) -> list[str]:
    if contact is None:
        return []
    return [c for c, ok in (("sms", contact.phone), ("email", contact.email)) if ok]


def _local(moment: datetime, zone: str) -> str:
    return moment.astimezone(zone_named(zone)).strftime("%a %-I:%M %p %Z")


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
    gap = oncall.in_gap(now)
    coming = oncall.next_shift(now) if gap else None
    nobody = primary is None and backup is None
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
        # Nobody to page now but a rota shift ahead: the ladder's next rung pages whoever
        # is on duty when it starts. Nobody at all: no ladder to climb, the inbox says so.
        next_page_at=(coming[1] if coming else None) if nobody else now + oncall.ack,
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
    who = contact.name if contact is not None else "nobody"
    channels = " and ".join(sorted({"text" if c == "sms" else c for c in _channels(contact)}))
    paged = f"paged {who} by {channels}" if ids and contact is not None else "nobody paged"
    audit.record(
        uow,
        actor="system",
        action="red_flag",
        detail=f"#{escalation_id} red flag: {reason}",
        now=now,
        enrollment_id=patient.enrollment_id,
    )
    audit.record(
        uow,
        actor="system",
        action="escalation_page",
        detail=f"#{escalation_id} first page: {paged}",
        now=now,
        enrollment_id=patient.enrollment_id,
    )
    if gap:
        ahead = (
            f"; {coming[0].name} comes on duty at {_local(coming[1], oncall.zone)}"
            if coming
            else ""
        )
        if nobody and coming:
            ahead += " and is paged then if it is still open"
        uow.escalations.add_note(
            escalation_id,
            f"Nobody in the on-call rota was on duty: {paged}"
            f"{' (the fallback)' if not nobody else ''}{ahead}.",
            now=now,
        )
    if not ids:
        uow.escalations.add_note(
            escalation_id,
            "Nobody was alerted at once: set REMINDERS_ONCALL_PHONE or REMINDERS_ONCALL_EMAIL"
            " (the fallback), or a rota without gaps (reminders oncall check). Call the"
            " patient yourself.",
            now=now,
        )
        log.error("red flag %s: nobody to page now", escalation_id)
    return escalation_id, ids
