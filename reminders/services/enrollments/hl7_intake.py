"""HL7 v2 intake: an ADT message becomes the EnrollPatient and use cases every door uses.

A03 (discharge) with a PR1 enrolls (enrollment.enroll); A13 (cancel discharge) pauses
(clinical_events.pause); A11 (cancel visit) cancels (enrollment.cancel); A08 (update)
changes the phone, email and language (care.update_contact, care.update_enrollment).
Every message's outcome is stored with the acknowledgement sent, so a message sent again
(the same MSH-10 from the same sender) gets the same acknowledgement and changes nothing.
An A03 without consent in the message waits as "consent needed" until staff record it.
See docs/integration.md.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import hl7
from sqlalchemy.exc import IntegrityError

from reminders.adapters.db.interfaces.hl7_repository import Hl7Row
from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.domain.enrollment.commands import EnrollPatient, GiveConsent
from reminders.domain.enrollment.fields import EXTERNAL_ID_MAX, EXTERNAL_KEY_PREFIX
from reminders.domain.errors import (
    EnrollmentClosed,
    InvalidEnrollment,
    ReminderError,
)
from reminders.services import audit
from reminders.services.enrollments import care, clinical_events, enrollment
from reminders.services.enrollments.bundles import Planning
from reminders.services.enrollments.hl7_reading import (
    HANDLED,
    INTERNAL_ERROR,
    TABLE_VALUE_NOT_FOUND,
    Adt,
    Header,
    Problem,
    Unprocessable,
    header,
    parse,
    read_adt,
)

APPLICATION = "RECOVERY-REMINDERS"
ACK_VERSION = "2.5.1"
# Where each EnrollPatient field comes from, to name it in an ERR segment.
FIELDS = {
    "first_name": ("PID", 5),
    "last_name": ("PID", 5),
    "phone": ("PID", 13),
    "email": ("PID", 13),
    "language": ("PID", 15),
    "procedure": ("PR1", 3),
    "performed_at": ("PR1", 5),
    "external_id": ("PID", 3),
    "consent": ("OBX", 3),
}
CODE_TEXT = {
    "101": "Required field missing",
    "102": "Data type error",
    "103": "Table value not found",
    "104": "Value too long",
    "200": "Unsupported message type",
    "203": "Unsupported version id",
    "207": "Application internal error",
}


@dataclass(frozen=True)
class Hl7Door:
    """What the HL7 door needs: a transaction per step, the plans, the clinic's zone."""

    new_uow: Callable[[], UnitOfWork]
    planning: Planning
    timezone: str  # a PR1-5 time without an offset is the clinic's local time
    default_region: str
    clock: Callable[[], datetime]


@dataclass(frozen=True)
class Handled:
    ack: str  # the acknowledgement message, segments joined by carriage returns
    code: str  # AA | AE | AR
    outcome: str  # enrolled | consent_needed | paused | cancelled | updated | ignored | ...
    repeated: bool = False


@dataclass(frozen=True)
class _Outcome:
    code: str
    outcome: str
    detail: str
    enrollment_id: int | None = None
    problems: tuple[Problem, ...] = ()
    pending: str | None = None


def receive(text: str, door: Hl7Door) -> Handled:
    """Process one message (its MLLP block's text) and return the acknowledgement."""
    now = door.clock()
    message: hl7.Message | None = None
    try:
        message = parse(text)
        head = header(message)
    except Unprocessable as exc:
        return _refuse(message, exc.problem, door, now)
    with door.new_uow() as uow:
        earlier = uow.hl7.ack_for(head.sender, head.control_id)
    if earlier is not None:
        return Handled(earlier, _ack_code(earlier), "repeated", repeated=True)
    adt = read_adt(message, head)
    if head.event not in HANDLED:
        result = _Outcome("AA", "ignored", f"{head.message_type} is not acted on; nothing changed")
    elif adt.problems:
        result = _Outcome("AE", "error", _words(adt.problems), problems=tuple(adt.problems))
    else:
        result = _apply(adt, door, now)
    ack = _ack(message, result.code, result.problems, result.detail)
    try:
        with door.new_uow() as uow:
            uow.hl7.add(
                sender=head.sender,
                control_id=head.control_id,
                message_type=head.message_type[:20],
                received_at=now,
                ack_code=result.code,
                outcome=result.outcome,
                detail=result.detail,
                enrollment_id=result.enrollment_id,
                patient_identifier=adt.patient_identifier[:250] or None,
                visit_number=(adt.visit_number or "")[:250] or None,
                location=(adt.location or "")[:250] or None,
                pending=result.pending,
                ack=ack,
            )
            _audit(uow, head, result, now)
            uow.commit()
    except IntegrityError:  # the same control id, processed a moment ago on another connection
        with door.new_uow() as uow:
            earlier = uow.hl7.ack_for(head.sender, head.control_id)
        if earlier is None:  # pragma: no cover - the unique key is what raised
            raise
        return Handled(earlier, _ack_code(earlier), "repeated", repeated=True)
    return Handled(ack, result.code, result.outcome)


def refused_block(reason: str, door: Hl7Door) -> Handled:
    """A block that is not a message at all (bad framing, too large): AR, recorded."""
    return _refuse(None, Problem("MSH", 0, INTERNAL_ERROR, reason), door, door.clock())


def _refuse(message: hl7.Message | None, problem: Problem, door: Hl7Door, now: datetime) -> Handled:
    ack = _ack(message, "AR", (problem,), problem.text)
    head: Header | None = None
    if message is not None:
        sender = "^".join(p for p in (_field(message, 3), _field(message, 4)) if p) or "?"
        kind = _field(message, 9)
        head = Header(sender, _field(message, 10), kind, "", _field(message, 12))
    with door.new_uow() as uow:
        uow.hl7.add(
            sender=(head.sender if head else "?")[:200],
            # A refused message is never "the same message again": its row has its own key.
            control_id=f"refused:{uuid.uuid4().hex}:{head.control_id if head else ''}"[:200],
            message_type=((head.message_type if head else "") or "?")[:20],
            received_at=now,
            ack_code="AR",
            outcome="refused",
            detail=problem.text[:2000],
            ack=ack,
        )
        audit.record(
            uow,
            actor=f"hl7:{head.sender if head else '?'}"[:100],
            action="hl7_refused",
            detail=problem.text[:500],
            now=now,
        )
        uow.commit()
    return Handled(ack, "AR", "refused")


def _apply(adt: Adt, door: Hl7Door, now: datetime) -> _Outcome:
    event = adt.header.event
    by = f"hl7:{adt.header.sender}"[:100]
    try:
        if event == "A03":
            return _discharge(adt, door, by, now)
        found = _enrollment_of(adt, door)
        if event == "A08":
            return _update(adt, door, found, by, now)
        if event == "A11":
            return _cancel(adt, door, found, by, now)
        return _pause(adt, door, found, by, now)  # A13
    except ReminderError as exc:
        segment, field_num = FIELDS.get(exc.field or "", ("PID", 0))
        problem = Problem(segment, field_num, TABLE_VALUE_NOT_FOUND, exc.message)
        return _Outcome("AE", "error", _words([problem]), problems=(problem,))


def _discharge(adt: Adt, door: Hl7Door, by: str, now: datetime) -> _Outcome:
    assert adt.procedure_code is not None and adt.performed_at is not None
    system, code = adt.procedure_code
    plan_key = door.planning.plans.by_code(system, code)
    if plan_key is None:
        problem = Problem(
            "PR1",
            3,
            TABLE_VALUE_NOT_FOUND,
            f"no care plan for procedure code {code} ({system or 'no coding system'});"
            f" known: {', '.join(door.planning.plans.known_codes())}",
        )
        return _Outcome("AE", "error", problem.text, problems=(problem,))
    cmd = EnrollPatient(
        first_name=adt.first_name,
        last_name=adt.last_name,
        procedure=plan_key,
        performed_at=adt.performed_at,
        timezone=door.timezone,
        phone=adt.phone,
        email=adt.email,
        language=adt.language or "en",
        external_id=_external_id(adt, code),
        consents=adt.consents,
        enrolled_by=by,
    )
    with door.new_uow() as uow:
        existing = uow.enrollments.id_for_key(EXTERNAL_KEY_PREFIX + (cmd.external_id or ""))
        status = uow.enrollments.get(existing).status if existing else None  # type: ignore[union-attr]
    if existing is not None and status == clinical_events.PAUSED:
        # Discharged again after an A13 held the messages: they go on from now.
        care.restart(existing, uow=door.new_uow(), planning=door.planning, by=by, now=now)
        return _Outcome(
            "AA", "resumed", f"discharged again: enrollment {existing} resumed", existing
        )
    try:
        result = enrollment.enroll(
            cmd, uow=door.new_uow(), planning=door.planning, now=now, via="HL7 ADT^A03"
        )
    except InvalidEnrollment as exc:
        if set(exc.errors) == {"consent"}:
            return _Outcome(
                "AA",
                "consent_needed",
                "no consent in the message: waits for staff to record consent; nothing sent",
                pending=_pending(cmd),
            )
        problems = [
            Problem(*FIELDS.get(name, ("PID", 0)), TABLE_VALUE_NOT_FOUND, f"{name}: {why}")
            for name, why in exc.errors.items()
            if name != "consent"
        ]
        return _Outcome("AE", "error", _words(problems), problems=tuple(problems))
    eid = result.enrollment.id
    if not result.created:
        return _Outcome("AA", "duplicate", f"already enrolled as enrollment {eid}", eid)
    return _Outcome("AA", "enrolled", f"enrolled as enrollment {eid} ({plan_key})", eid)


def _update(adt: Adt, door: Hl7Door, found: int | None, by: str, now: datetime) -> _Outcome:
    if found is None:
        return _Outcome("AA", "ignored", "no enrollment for this patient; nothing changed")
    changes = care.update_contact(
        found,
        uow=door.new_uow(),
        by=by,
        now=now,
        phone=adt.phone,
        email=adt.email,
        default_region=door.default_region,
    )
    if adt.language:
        try:
            before = enrollment.get_enrollment(found, uow=door.new_uow()).patient.language
            care.update_enrollment(
                found, uow=door.new_uow(), planning=door.planning, by=by, now=now,
                language=adt.language,
            )  # fmt: skip
            if before != adt.language:
                changes.append(f"language {before} -> {adt.language}")
        except EnrollmentClosed:
            changes.append("language kept: the enrollment is not active")
    detail = "; ".join(changes) if changes else "nothing changed"
    return _Outcome("AA", "updated" if changes else "unchanged", detail, found)


def _cancel(adt: Adt, door: Hl7Door, found: int | None, by: str, now: datetime) -> _Outcome:
    settled = _settle_pending(adt, door, by, now, "the hospital cancelled the visit (A11)")
    if found is None:
        text = "no enrollment for this patient" + (f"; {settled}" if settled else "")
        return _Outcome("AA", "cancelled" if settled else "ignored", text)
    current = enrollment.get_enrollment(found, uow=door.new_uow())
    if current.status == "cancelled":
        return _Outcome("AA", "unchanged", f"enrollment {found} was already cancelled", found)
    enrollment.cancel(
        found, uow=door.new_uow(), by=by, reason="the hospital cancelled the visit (A11)", now=now
    )
    return _Outcome("AA", "cancelled", f"enrollment {found} cancelled", found)


def _pause(adt: Adt, door: Hl7Door, found: int | None, by: str, now: datetime) -> _Outcome:
    settled = _settle_pending(adt, door, by, now, "the hospital cancelled the discharge (A13)")
    if found is None:
        text = "no enrollment for this patient" + (f"; {settled}" if settled else "")
        return _Outcome("AA", "cancelled" if settled else "ignored", text)
    try:
        paused = clinical_events.pause(
            door.new_uow(),
            enrollment_id=found,
            by=by,
            why="the hospital cancelled the discharge (ADT^A13)",
            now=now,
        )
    except EnrollmentClosed:
        return _Outcome(
            "AA", "unchanged", f"enrollment {found} is cancelled; nothing to hold", found
        )
    if paused.already:
        return _Outcome("AA", "unchanged", f"enrollment {found} was already paused", found)
    return _Outcome("AA", "paused", f"enrollment {found} paused: {paused.held} held", found)


def _settle_pending(adt: Adt, door: Hl7Door, by: str, now: datetime, why: str) -> str:
    with door.new_uow() as uow:
        pending = uow.hl7.pending_for(adt.patient_identifier)
        for row in pending:
            uow.hl7.settle(row.id, by=by, now=now, enrollment_id=None, detail=f"closed: {why}")
        uow.commit()
    return f"{len(pending)} request(s) waiting for consent closed" if pending else ""


def _enrollment_of(adt: Adt, door: Hl7Door) -> int | None:
    with door.new_uow() as uow:
        if adt.visit_number:
            found = uow.hl7.enrollment_for(adt.patient_identifier, adt.visit_number)
            if found is not None:
                return found
        return uow.hl7.enrollment_for(adt.patient_identifier, None)


def _external_id(adt: Adt, code: str) -> str:
    """The procedure's own key: the same discharge sent again enrolls nothing new."""
    assert adt.performed_at is not None
    when = adt.performed_at.strftime("%Y%m%d%H%M")
    key = f"hl7:{adt.patient_identifier}|{adt.visit_number or ''}|{code}|{when}"
    if len(key) > EXTERNAL_ID_MAX:
        key = "hl7:" + uuid.uuid5(uuid.NAMESPACE_URL, key).hex
    return key


def _pending(cmd: EnrollPatient) -> str:
    values = asdict(cmd)
    values.pop("consents")
    values.pop("caregiver")
    values["performed_at"] = cmd.performed_at.isoformat()
    return json.dumps(values)


def enroll_pending(
    message_id: int,
    consents: Sequence[GiveConsent],
    *,
    door: Hl7Door,
    by: str,
    now: datetime,
) -> int:
    """Staff recorded the consent a waiting A03 lacked: enroll it (as any door would)."""
    with door.new_uow() as uow:
        row = uow.hl7.get(message_id)
    if row is None or row.pending is None or row.settled_at is not None:
        raise ReminderError("this request was already enrolled or closed", field="id")
    values = json.loads(row.pending)
    values["performed_at"] = datetime.fromisoformat(values["performed_at"])
    cmd = EnrollPatient(**{**values, "consents": tuple(consents), "enrolled_by": by})
    result = enrollment.enroll(
        cmd,
        uow=door.new_uow(),
        planning=door.planning,
        now=now,
        via="HL7 ADT^A03, consent by staff",
    )
    eid = result.enrollment.id
    assert eid is not None
    with door.new_uow() as uow:
        uow.hl7.settle(message_id, by=by, now=now, enrollment_id=eid, detail=f"enrolled by {by}")
        uow.commit()
    return eid


def dismiss_pending(message_id: int, *, door: Hl7Door, by: str, now: datetime) -> bool:
    """Staff decided a waiting A03 is not to be enrolled (the patient declined)."""
    with door.new_uow() as uow:
        done = uow.hl7.settle(
            message_id, by=by, now=now, enrollment_id=None, detail=f"not enrolled: {by} decided"
        )
        row = uow.hl7.get(message_id)
        audit.record(
            uow,
            actor=by,
            action="hl7_dismissed",
            detail=f"consent-needed request from {row.sender if row else '?'} not enrolled",
            now=now,
        )
        uow.commit()
    return done


def _audit(uow: UnitOfWork, head: Header, result: _Outcome, now: datetime) -> None:
    audit.record(
        uow,
        actor=f"hl7:{head.sender}"[:100],
        action="hl7_message",
        detail=f"{head.message_type} {head.control_id}: {result.code} {result.outcome}"[:500],
        now=now,
        enrollment_id=result.enrollment_id,
    )


def _ack(message: hl7.Message | None, code: str, problems: Sequence[Problem], text: str) -> str:
    """The acknowledgement: MSA-2 echoes MSH-10, one ERR a problem (segment, field, code)."""
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    control = uuid.uuid4().hex[:20]
    if message is not None and _field(message, 10):
        ack = message.create_ack(
            code, message_id=control, application=APPLICATION, facility=APPLICATION
        )
        escape = message.escape
    else:  # no message to answer: a bare acknowledgement that refuses the block
        ack = hl7.parse(
            f"MSH|^~\\&|{APPLICATION}|{APPLICATION}|||{stamp}||ACK|{control}|P|{ACK_VERSION}\r"
            f"MSA|{code}|"
        )
        escape = ack.escape
    lines = [str(ack)]
    if code != "AA":  # MSA-3, the text message, for readers of older versions
        lines[-1] = f"{str(ack).rstrip(chr(13))}|{escape(text[:80])}"
    for p in problems:
        words = CODE_TEXT.get(p.code, "")
        lines.append(
            f"ERR|{p.segment}^1^{p.field or ''}^{p.code}&{words}&HL70357"
            f"|{p.segment}^1^{p.field or ''}|{p.code}^{words}^HL70357|E||||{escape(p.text[:400])}"
        )
    return "\r".join(line.rstrip("\r") for line in lines)


def _ack_code(ack: str) -> str:
    return str(hl7.parse(ack).extract_field("MSA", 1, 1, 1, 1))


def _field(message: hl7.Message, number: int) -> str:
    try:
        return str(message.extract_field("MSH", 1, number, 1, 1) or "")
    except (KeyError, IndexError):
        return ""


def _words(problems: Sequence[Problem]) -> str:
    return "; ".join(f"{p.where}: {p.text}" for p in problems)[:2000]


@dataclass(frozen=True)
class Waiting:
    """A discharge that waits for consent, as staff read it on the Interfaces page."""

    id: int
    received_at: datetime
    sender: str
    patient_identifier: str | None
    location: str | None
    name: str
    procedure: str
    performed_at: str  # as the message gave it (a naive time is the clinic's)
    phone: str | None
    email: str | None


def waiting_for_consent(new_uow: Callable[[], UnitOfWork]) -> list[Waiting]:
    with new_uow() as uow:
        rows = uow.hl7.consent_needed()
    found = []
    for row in rows:
        values = json.loads(row.pending or "{}")
        found.append(
            Waiting(
                id=row.id,
                received_at=row.received_at,
                sender=row.sender,
                patient_identifier=row.patient_identifier,
                location=row.location,
                name=f"{values.get('first_name', '')} {values.get('last_name', '')}".strip(),
                procedure=str(values.get("procedure", "")),
                performed_at=str(values.get("performed_at", "")),
                phone=values.get("phone"),
                email=values.get("email"),
            )
        )
    return found


def recent_messages(new_uow: Callable[[], UnitOfWork], *, limit: int = 200) -> list[Hl7Row]:
    """The newest HL7 messages first, each with its outcome (the Interfaces page)."""
    with new_uow() as uow:
        return uow.hl7.recent(limit=limit)


def consent_needed_count(new_uow: Callable[[], UnitOfWork]) -> int:
    with new_uow() as uow:
        return uow.hl7.count_consent_needed()
