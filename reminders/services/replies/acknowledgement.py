"""Acknowledgement timers: an open red flag climbs the paging ladder until someone says "on it".

The beat (`climb_ladders`) looks at database rows only: an escalation says how many
rungs are done and when the next is due. Each rung is claimed by a conditional UPDATE
on that count, so two beats and any number of workers page once; acknowledging (the
inbox button or an "ACK <code>" text) moves the row out of `open` and stops the ladder.
Every page and call goes through the one send pipeline as an on-call alert.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.domain.enrollment.contact import mask_phone
from reminders.domain.inbound.escalations import EscalationStatus
from reminders.domain.inbound.oncall import Contact, Step, next_rung, spoken_alert
from reminders.services import audit
from reminders.services.content import Clinic
from reminders.services.delivery.notifications import deliver_notifications
from reminders.services.delivery.outgoing import Delivery
from reminders.services.replies.oncall import OnCall

log = logging.getLogger("reminders.escalation")

ACK_TEXT = re.compile(r"\s*ACK\s*[:#-]?\s*([A-Za-z0-9]{4})\s*[.!]*\s*", re.IGNORECASE)
NOT_YET = "Not yet acknowledged: "


def climb_ladders(
    *, uow: UnitOfWork, delivery: Delivery, oncall: OnCall, now: Callable[[], datetime]
) -> dict[str, int]:
    """Take every due rung once (re-page, backup, call), then send what it queued."""
    counts: Counter[str] = Counter()
    to_send: list[int] = []
    with uow:
        due = uow.escalations.due_rungs(now=now())
    for escalation_id, done, created_at, enrollment_id in due:
        with uow:
            moment = now()
            rung = next_rung(done, created_at=created_at, ack=oncall.ack)
            following = next_rung(done + 1, created_at=created_at, ack=oncall.ack)
            # The next rung keeps its spacing from this one: after an outage the overdue
            # rungs do not go out back to back (a nurse gets time to answer each).
            claimed = uow.escalations.claim_rung(
                escalation_id,
                done=done,
                next_page_at=max(following[1], moment + oncall.ack) if following else None,
                now=moment,
            )
            if not claimed or rung is None:
                uow.commit()  # another beat took it, someone acknowledged, or the top was reached
                continue
            step = rung[0]
            ids, who = _rung(uow, escalation_id, step, oncall, delivery.clinic, moment)
            verb = "called" if step is Step.CALL else "paged"
            late = oncall.ack_minutes * done
            detail = (
                f"#{escalation_id} not acknowledged {late} min after the red flag: {step.value},"
            )
            detail += f" {verb} {who}" if ids else " nobody to reach"
            audit.record(
                uow,
                actor="system",
                action=f"escalation_{step.value}",
                detail=detail,
                now=moment,
                enrollment_id=enrollment_id,
            )
            if not ids:
                uow.escalations.add_note(
                    escalation_id, f"{step.value}: nobody to reach", now=moment
                )
            uow.commit()
        counts[step.value] += 1
        to_send.extend(ids)
    for result, n in deliver_notifications(
        uow=uow, delivery=delivery, ids=to_send, now=now
    ).items():
        counts[f"alert_{result}"] += n
    return dict(counts)


def _rung(
    uow: UnitOfWork, escalation_id: int, step: Step, oncall: OnCall, clinic: Clinic, now: datetime
) -> tuple[list[int], str]:
    """Queue the alerts of one rung (inside the caller's transaction): ids and whom."""
    primary, backup = oncall.contacts(now)
    common = {"escalation_id": escalation_id, "kind": "oncall_alert", "step": step.value}
    if step is Step.CALL:
        phones = {c.phone: c.name for c in (primary, backup) if c is not None and c.phone}
        ids = [
            uow.notifications.add_notification(
                now=now,
                channel="voice",
                recipient=phone,
                language="en",
                body=spoken_alert(clinic.name),
                **common,
            )
            for phone in phones
        ]
        return ids, " and ".join(phones.values())
    contact = backup if step is Step.BACKUP and backup is not None else primary or backup
    if contact is None:
        return [], ""
    ids = []
    for page in uow.notifications.pages_of(escalation_id):
        recipient = contact.phone if page.channel == "sms" else contact.email
        if not recipient:
            continue
        ids.append(
            uow.notifications.add_notification(
                now=now,
                channel=page.channel,
                recipient=recipient,
                language=page.language,
                subject=(NOT_YET + page.subject) if page.subject else None,
                body=NOT_YET + page.body if page.channel == "sms" else page.body,
                **common,
            )
        )
    if not ids:  # the first page went nowhere this contact can be reached: text them fresh
        ids = _fresh(uow, escalation_id, contact, common, now)
    return ids, contact.name


def _fresh(
    uow: UnitOfWork, escalation_id: int, contact: Contact, common: dict[str, object], now: datetime
) -> list[int]:
    found = uow.escalations.escalations(ids=[escalation_id], limit=1)
    if not found or not contact.phone:
        return []
    e = found[0]
    body = f"{NOT_YET}red flag #{e.id}: {e.reason}. Check the inbox. Reply ACK {e.code}"
    return [
        uow.notifications.add_notification(
            now=now, channel="sms", recipient=contact.phone, language="en", body=body, **common
        )
    ]


@dataclass(frozen=True)
class AckReply:
    """What an on-call text acknowledging an alert did, and the answer it gets."""

    outcome: str  # acknowledged | already | unknown
    reply: str
    escalation_id: int | None = None


def acknowledge_by_text(
    uow: UnitOfWork, *, phone: str, body: str, oncall: OnCall, clinic: Clinic, now: datetime
) -> AckReply | None:
    """ "ACK <code>" from a paged phone acknowledges that alert (caller's transaction); None:
    not an acknowledgement, handle the text as usual."""
    found = ACK_TEXT.fullmatch(body or "")
    name = oncall.staff_named(phone)
    if found is None or name is None:
        return None
    code = found[1].upper()
    hit = uow.escalations.escalation_by_code(code)
    if hit is None:
        return AckReply("unknown", f"{clinic.name}: no alert has code {code}. Check the inbox.")
    escalation_id, status = hit
    by = f"{name} (text)"
    moved = uow.escalations.set_escalation(
        escalation_id,
        frm=(EscalationStatus.OPEN.value,),
        now=now,
        status=EscalationStatus.ACKNOWLEDGED.value,
        acknowledged_at=now,
        acknowledged_by=by,
        next_page_at=None,
    )
    if not moved:
        reply = f"{clinic.name}: alert #{escalation_id} was already {status}. Thank you."
        return AckReply("already", reply, escalation_id)
    enrollment = uow.escalations.escalations(ids=[escalation_id], limit=1)
    audit.record(
        uow,
        actor=by,
        action="escalation_acknowledged",
        detail=f"#{escalation_id} acknowledged by text from {mask_phone(phone)}",
        now=now,
        enrollment_id=enrollment[0].enrollment_id if enrollment else None,
    )
    log.info("alert %s acknowledged by text from %s", escalation_id, mask_phone(phone))
    reply = f"{clinic.name}: alert #{escalation_id} acknowledged. Thank you."
    return AckReply("acknowledged", reply, escalation_id)
