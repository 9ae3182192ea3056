"""The REST API's request and response bodies (the OpenAPI document is built from these)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from reminders.domain.enrollment.fields import (
    EMAIL_MAX,
    EXTERNAL_ID_MAX,
    LANGUAGE_MAX,
    MAX_LEVELS,
    NAME_MAX,
    PHONE_TYPED_MAX,
    PROCEDURE_MAX,
    TIMEZONE_MAX,
)
from reminders.domain.model import Channel, ConsentMethod, Enrollment, MessageStatus


def _printable(value: str) -> str:
    if any(ord(ch) < 32 and ch not in "\t" for ch in value):
        raise ValueError("must not contain control characters")
    return value


def _plausible(value: datetime) -> datetime:
    if not 1970 <= value.year <= 2100:
        raise ValueError("must be a date between 1970 and 2100")
    return value


Text = Annotated[str, AfterValidator(_printable)]
When = Annotated[datetime, AfterValidator(_plausible)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConsentIn(Strict):
    channel: Channel
    method: ConsentMethod = ConsentMethod.VERBAL
    more_frequent_sms: bool = Field(
        False, description="Written consent to more than the default SMS cap (SMS only)."
    )


class CaregiverIn(Strict):
    """An optional second recipient: the first-day safety texts and warning signs, never
    check-in questions. Lengths and shapes are checked with the rest of the request, so
    each wrong field gets its own error (`caregiver.phone`, ...)."""

    name: Text = Field(examples=["Rosa Lopez"])
    relationship: Text = Field("", examples=["daughter"])
    phone: Text | None = Field(None, examples=["(805) 555-0199"])
    email: Text | None = Field(None, examples=["rosa@example.org"])
    language: Text | None = Field(None, description="Default: the patient's language.")
    sms_consent: bool = Field(False, description="The caregiver agreed to texts.")
    email_consent: bool = Field(False, description="The caregiver agreed to emails.")


class EnrollmentIn(Strict):
    first_name: Text = Field(max_length=NAME_MAX, examples=["Ana"])
    last_name: Text = Field(max_length=NAME_MAX, examples=["Lopez"])
    phone: Text | None = Field(None, max_length=PHONE_TYPED_MAX, examples=["(805) 555-0142"])
    email: Text | None = Field(None, max_length=EMAIL_MAX, examples=["ana@example.org"])
    procedure: Text = Field(max_length=PROCEDURE_MAX, examples=["kyphoplasty"])
    performed_at: When = Field(
        description="When the procedure ended; without an offset it is the patient's local time.",
        examples=["2026-03-07T14:30:00-08:00"],
    )
    timezone: Text | None = Field(
        None, max_length=TIMEZONE_MAX, description="IANA zone; default: the clinic's."
    )
    language: Text = Field("en", max_length=LANGUAGE_MAX)
    levels: int = Field(1, ge=1, le=MAX_LEVELS)
    overnight: bool = False
    external_id: Text | None = Field(
        None,
        max_length=EXTERNAL_ID_MAX,
        description="The procedure's id in the EHR. Enrolling the same id again returns"
        " the first enrollment and changes nothing.",
    )
    consents: list[ConsentIn] = Field(min_length=1, max_length=2)
    caregiver: CaregiverIn | None = None


class EnrollmentPatch(Strict):
    performed_at: When | None = Field(None, description="The corrected procedure time.")
    channels: list[ConsentIn] | None = Field(
        None,
        min_length=1,
        max_length=2,
        description="The channels to use from now on; a new one records consent by the caller.",
    )
    language: Text | None = Field(None, max_length=LANGUAGE_MAX)


class CancelIn(Strict):
    reason: Text = Field("cancelled through the API", max_length=500)


class PatientOut(BaseModel):
    first_name: str
    last_name: str
    phone: str | None
    email: str | None
    language: str
    timezone: str


class ProcedureOut(BaseModel):
    procedure: str
    performed_at: datetime
    levels: int
    overnight: bool
    external_id: str | None


class ConsentOut(BaseModel):
    channel: Channel
    given: bool
    method: ConsentMethod
    recorded_by: str
    recorded_at: datetime


class CaregiverOut(BaseModel):
    name: str
    relationship: str
    phone: str | None
    email: str | None
    language: str
    sms_consent: bool
    email_consent: bool


class MessageOut(BaseModel):
    id: int
    revision: int
    step_key: str
    channel: Channel
    category: str
    send_at: datetime
    deadline: datetime
    status: MessageStatus
    status_reason: str | None
    attempts: int
    sent_at: datetime | None
    kind: str = "care"  # care | resend | caregiver (to the caregiver)


class EnrollmentOut(BaseModel):
    id: int
    status: str
    revision: int
    created_at: datetime | None
    patient: PatientOut
    procedure: ProcedureOut
    consents: list[ConsentOut]
    messages: list[MessageOut]
    caregiver: CaregiverOut | None = None
    result: str | None = Field(
        None, description="On a write: created, changed or unchanged (a replay, a no-op)."
    )

    @classmethod
    def of(cls, e: Enrollment, result: str | None = None) -> EnrollmentOut:
        assert e.id is not None
        p, proc = e.patient, e.procedure
        return cls(
            id=e.id,
            status=e.status,
            revision=e.revision,
            result=result,
            created_at=e.created_at,
            patient=PatientOut(
                first_name=p.first_name,
                last_name=p.last_name,
                phone=p.phone,
                email=p.email,
                language=p.language,
                timezone=p.timezone,
            ),
            procedure=ProcedureOut(
                procedure=proc.procedure,
                performed_at=proc.performed_at,
                levels=proc.levels,
                overnight=proc.overnight,
                external_id=proc.external_id,
            ),
            consents=[
                ConsentOut(
                    channel=c.channel,
                    given=c.given,
                    method=c.method,
                    recorded_by=c.recorded_by,
                    recorded_at=c.recorded_at,
                )
                for c in e.consents
            ],
            messages=[
                MessageOut(
                    id=m.id or 0,
                    revision=m.revision,
                    step_key=m.step_key,
                    channel=m.channel,
                    category=m.category,
                    send_at=m.send_at,
                    deadline=m.deadline,
                    status=m.status,
                    status_reason=m.status_reason,
                    attempts=m.attempts,
                    sent_at=m.sent_at,
                    kind=m.kind,
                )
                for m in e.messages
            ],
            caregiver=None
            if e.caregiver is None
            else CaregiverOut(
                name=e.caregiver.name,
                relationship=e.caregiver.relationship,
                phone=e.caregiver.phone,
                email=e.caregiver.email,
                language=e.caregiver.language,
                sms_consent=e.caregiver.sms_consent,
                email_consent=e.caregiver.email_consent,
            ),
        )


class MessageRef(BaseModel):
    id: int
    status: MessageStatus


class EnrollmentRef(BaseModel):
    """What a write answers a token without the `read` scope: ids and statuses, no patient."""

    id: int
    status: str
    revision: int
    result: str = Field(description="created, changed or unchanged (a replay, a no-op).")
    messages: list[MessageRef]

    @classmethod
    def of(cls, e: Enrollment, result: str) -> EnrollmentRef:
        assert e.id is not None
        return cls(
            id=e.id,
            status=e.status,
            revision=e.revision,
            result=result,
            messages=[MessageRef(id=m.id or 0, status=m.status) for m in e.messages],
        )


class FieldError(BaseModel):
    field: str | None = Field(
        description="The request field at fault; null when it is the whole request."
    )
    message: str


class ErrorOut(BaseModel):
    detail: str
    errors: list[FieldError] = []
