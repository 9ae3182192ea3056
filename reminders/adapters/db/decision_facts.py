"""The one loader of decision facts: what every guardrail needs to decide an outgoing message.

`load_facts` reads, for any kind of outgoing message, the facts of domain/outbound/
decisions.DecisionFacts in a few queries for a whole batch: the enrollment's state, whose
phone or address it goes to (the patient, the caregiver or staff, by the kind), that
recipient's own consent to the channel, whether that phone said STOP, whether written
consent lifts the SMS cap (the domain's Consent.lifts_sms_cap says when), and the phone's
other texts. Every sender calls it: care texts and emails (through DueMessages below),
resends, check-in reminders, silence nudges and pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from reminders.adapters.db.enrollments.caregiver_repository import to_caregiver
from reminders.adapters.db.enrollments.opt_out_repository import OptOutRepository
from reminders.adapters.db.messages.message_reads import MessageReads, to_message
from reminders.adapters.db.orm import (
    caregivers,
    consents,
    enrollments,
    patients,
    scheduled_messages,
)
from reminders.adapters.db.sql_sets import among
from reminders.domain.enrollment.caregiver import as_recipient
from reminders.domain.lifecycles.enrollment import EnrollmentStatus
from reminders.domain.model import (
    Caregiver,
    Channel,
    Consent,
    ConsentMethod,
    Patient,
    ScheduledMessage,
)
from reminders.domain.outbound.decisions import KINDS, DecisionFacts, Kind, Whose
from reminders.domain.planning.timing import zone_named

M = scheduled_messages
# The patient and the caregiver of an enrollment, as both reads below select them.
CAREGIVER_FIELDS = ("id", "name", "relationship", "phone", "email", "language")
PEOPLE = (
    patients.c.id.label("patient_id"),
    patients.c.first_name,
    patients.c.last_name,
    patients.c.phone,
    patients.c.email,
    patients.c.language,
    patients.c.timezone,
    *(
        caregivers.c[name].label(f"cg_{name}")
        for name in (*CAREGIVER_FIELDS, "sms_consent", "email_consent")
    ),
)


@dataclass(frozen=True)
class FactsWanted:
    """Which message to load facts for: its kind, channel, enrollment and deadline."""

    kind: Kind
    channel: str  # sms | email | voice
    enrollment_id: int | None
    deadline: datetime | None
    to: str | None  # a staff recipient's phone or address; None for patients and caregivers
    # Rows not to count among the phone's other texts (the batch being decided itself).
    exclude: tuple[int, ...]
    # Count texts still planned too (a new message must leave room for the plan), or only
    # texts that went out (the plan's own rows were planned to fit together).
    planned: bool


@dataclass(frozen=True)
class _Enrollment:
    status: EnrollmentStatus
    patient: Patient
    consents: tuple[Consent, ...]
    caregiver: Caregiver | None


def load_facts(
    conn: Connection, wanted: Sequence[FactsWanted], *, now: datetime
) -> list[DecisionFacts]:
    """The decision facts of each message wanted, in order, in a few queries for them all."""
    found = _enrollments(conn, {w.enrollment_id for w in wanted if w.enrollment_id})
    phones: dict[int, str] = {}  # index in wanted -> the phone a text or call goes to
    for i, w in enumerate(wanted):
        phone = _phone_of(w, found.get(w.enrollment_id or 0))
        if phone and w.channel in ("sms", "voice"):
            phones[i] = phone
    opted_out = OptOutRepository(conn).opted_out_among(phones.values())
    # The phones' other texts, read once per (planned, exclude) group of the batch.
    groups: dict[tuple[bool, tuple[int, ...]], set[str]] = {}
    for i, phone in phones.items():
        groups.setdefault((wanted[i].planned, wanted[i].exclude), set()).add(phone)
    reads = MessageReads(conn)
    times = {
        (planned, exclude): reads.sms_times(group, around=now, planned=planned, exclude=exclude)
        for (planned, exclude), group in groups.items()
    }
    out = []
    for i, w in enumerate(wanted):
        enrollment = found.get(w.enrollment_id or 0)
        phone = phones.get(i)
        others = times[(w.planned, w.exclude)][phone] if phone else []
        out.append(
            DecisionFacts(
                kind=w.kind,
                channel=w.channel,
                recipient=KINDS[w.kind].recipient,
                enrollment=enrollment.status if enrollment else None,
                consent_given=_consented(w, enrollment),
                opted_out=phone in opted_out if phone else False,
                cap_lifted=_cap_lifted(w, enrollment),
                deadline=w.deadline,
                zone=zone_named(enrollment.patient.timezone if enrollment else "UTC"),
                other_texts=tuple(others),
            )
        )
    return out


def _enrollments(conn: Connection, ids: set[int]) -> dict[int, _Enrollment]:
    if not ids:
        return {}
    rows = (
        conn.execute(
            select(
                enrollments.c.id,
                enrollments.c.status,
                *PEOPLE,
            )
            .join(patients, patients.c.id == enrollments.c.patient_id)
            .outerjoin(caregivers, caregivers.c.enrollment_id == enrollments.c.id)
            .where(among(conn, enrollments.c.id, ids))
        )
        .mappings()
        .all()
    )
    given: dict[int, list[Consent]] = {}
    for c in conn.execute(
        select(consents).where(among(conn, consents.c.enrollment_id, ids))
    ).mappings():
        given.setdefault(c["enrollment_id"], []).append(
            Consent(
                channel=Channel(c["channel"]),
                given=c["given"],
                method=ConsentMethod(c["method"]),
                recorded_by=c["recorded_by"],
                recorded_at=c["recorded_at"],
                more_frequent_sms=c["more_frequent_sms"],
            )
        )
    return {r["id"]: _enrollment(r, tuple(given.get(r["id"], ()))) for r in rows}


def _enrollment(row: Any, consents_given: tuple[Consent, ...]) -> _Enrollment:
    caregiver = None
    if row["cg_id"] is not None:
        caregiver = to_caregiver({k[3:]: row[k] for k in row if k.startswith("cg_")})
    return _Enrollment(
        status=EnrollmentStatus(row["status"]),
        patient=_patient(row),
        consents=consents_given,
        caregiver=caregiver,
    )


def _patient(row: Any) -> Patient:
    return Patient(
        id=row["patient_id"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        phone=row["phone"],
        email=row["email"],
        language=row["language"],
        timezone=row["timezone"],
    )


def _phone_of(w: FactsWanted, enrollment: _Enrollment | None) -> str | None:
    whose = KINDS[w.kind].recipient
    if whose is Whose.STAFF:
        return w.to
    if enrollment is None:
        return None
    if whose is Whose.CAREGIVER:
        return enrollment.caregiver.phone if enrollment.caregiver else None
    return enrollment.patient.phone


def _consented(w: FactsWanted, enrollment: _Enrollment | None) -> bool:
    """The recipient's own consent to this channel; staff have none on record (pages
    declare that they need none)."""
    whose = KINDS[w.kind].recipient
    if enrollment is None or whose is Whose.STAFF:
        return False
    if whose is Whose.CAREGIVER:
        cg = enrollment.caregiver
        return cg is not None and w.channel in {c.value for c in cg.channels}
    return any(c.given and c.channel.value == w.channel for c in enrollment.consents)


def _cap_lifted(w: FactsWanted, enrollment: _Enrollment | None) -> bool:
    """Only the patient's own written consent lifts the cap, and only for the patient's phone."""
    if enrollment is None or KINDS[w.kind].recipient is not Whose.PATIENT:
        return False
    return any(c.lifts_sms_cap for c in enrollment.consents)


# ---- a batch of plan rows, with what rendering them needs -------------------------------


@dataclass(frozen=True)
class DueMessage:
    """A plan row with its recipient, its plan's facts, and its decision facts."""

    message: ScheduledMessage
    patient: Patient
    procedure: str
    performed_at: datetime
    levels: int
    overnight: bool
    facts: DecisionFacts
    caregiver: Caregiver | None  # set for a caregiver's row (kind "caregiver")

    @property
    def id(self) -> int:
        assert self.message.id is not None
        return self.message.id

    @property
    def to_caregiver(self) -> bool:
        return self.facts.recipient is Whose.CAREGIVER

    @property
    def recipient(self) -> Patient:
        """Who the message goes to: the patient, or the caregiver (in the patient's zone)."""
        if self.to_caregiver and self.caregiver is not None:
            return as_recipient(self.caregiver, timezone=self.patient.timezone)
        return self.patient


class DueMessages:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def load(self, message_id: int, *, now: datetime) -> DueMessage | None:
        found = self.load_many([message_id], now=now)
        return found[0] if found else None

    def load_many(self, message_ids: list[int], *, now: datetime) -> list[DueMessage]:
        """Read plan rows with patient, caregiver and plan, and their decision facts."""
        if not message_ids:
            return []
        rows = (
            self.conn.execute(
                select(
                    M,
                    enrollments.c.procedure,
                    enrollments.c.performed_at,
                    enrollments.c.levels,
                    enrollments.c.overnight,
                    *PEOPLE,
                )
                .join(enrollments, enrollments.c.id == M.c.enrollment_id)
                .join(patients, patients.c.id == enrollments.c.patient_id)
                .outerjoin(caregivers, caregivers.c.enrollment_id == enrollments.c.id)
                .where(among(self.conn, M.c.id, message_ids))
                .order_by(M.c.send_at, M.c.id)
            )
            .mappings()
            .all()
        )
        messages = [to_message(r) for r in rows]
        # At send time only texts that went out count, never the batch's own rows: the
        # plan's texts were planned to fit together (the sender adds the batch's own as it
        # decides them, in order).
        texted = tuple(sorted(m.id for m in messages if m.id and m.channel is Channel.SMS))
        facts = load_facts(
            self.conn,
            [
                FactsWanted(
                    kind=Kind(m.kind),
                    channel=m.channel.value,
                    enrollment_id=m.enrollment_id,
                    deadline=m.deadline,
                    to=None,
                    exclude=texted,
                    planned=False,
                )
                for m in messages
            ],
            now=now,
        )
        return [
            DueMessage(
                message=m,
                patient=_patient(r),
                procedure=r["procedure"],
                performed_at=r["performed_at"],
                levels=r["levels"],
                overnight=r["overnight"],
                facts=f,
                caregiver=(
                    to_caregiver({k[3:]: r[k] for k in r if k.startswith("cg_")})
                    if r["cg_id"] is not None
                    else None
                ),
            )
            for m, r, f in zip(messages, rows, facts, strict=True)
        ]
