"""The REST API's bodies: what a request may hold, and an enrollment as the API returns it."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from reminders.domain.enrollment.fields import MAX_LEVELS, NAME_MAX
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
from reminders.entrypoints.web.api.schemas import (
    CancelIn,
    EnrollmentIn,
    EnrollmentOut,
    EnrollmentPatch,
    ErrorOut,
)

NOW = datetime(2026, 5, 4, 17, 0, tzinfo=UTC)
GOOD = {
    "first_name": "Ana",
    "last_name": "Lopez",
    "phone": "(805) 555-0142",
    "procedure": "kyphoplasty",
    "performed_at": "2026-05-04T07:00:00-07:00",
    "consents": [{"channel": "sms"}],
}


def wrong_fields(**change):
    with pytest.raises(ValidationError) as info:
        EnrollmentIn.model_validate({**GOOD, **change})
    return {str(e["loc"][0]) for e in info.value.errors()}


def test_a_good_request_fills_the_defaults():
    body = EnrollmentIn.model_validate(GOOD)
    assert (body.language, body.levels, body.overnight, body.timezone) == ("en", 1, False, None)
    assert body.consents[0].channel is Channel.SMS
    assert body.consents[0].method is ConsentMethod.VERBAL
    assert body.consents[0].more_frequent_sms is False


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"first_name": "Ana\x00"}, "first_name"),  # control characters
        ({"last_name": "Lopez\nDROP"}, "last_name"),
        ({"first_name": "A" * (NAME_MAX + 1)}, "first_name"),
        ({"performed_at": "1969-12-31T23:00:00Z"}, "performed_at"),
        ({"performed_at": "2101-01-01T00:00:00Z"}, "performed_at"),
        ({"levels": 0}, "levels"),
        ({"levels": MAX_LEVELS + 1}, "levels"),
        ({"consents": []}, "consents"),
        ({"consents": [{"channel": "sms"}] * 3}, "consents"),
        ({"consents": [{"channel": "sms", "method": "telepathy"}]}, "consents"),
        ({"nickname": "Annie"}, "nickname"),  # unknown fields are refused, not dropped
    ],
)
def test_a_wrong_field_is_named(change, field):
    assert wrong_fields(**change) == {field}


def test_a_tab_in_a_name_is_allowed():
    assert EnrollmentIn.model_validate({**GOOD, "last_name": "Lopez\tGarcia"}).last_name


def test_a_patch_and_a_cancel_accept_only_their_own_fields():
    assert EnrollmentPatch.model_validate({}).performed_at is None
    with pytest.raises(ValidationError):
        EnrollmentPatch.model_validate({"channels": []})  # at least one channel
    with pytest.raises(ValidationError):
        CancelIn.model_validate({"reason": "x", "by": "someone"})
    assert CancelIn.model_validate({}).reason == "cancelled through the API"


def test_an_enrollment_is_returned_with_its_patient_procedure_consents_and_messages():
    message = ScheduledMessage(
        step_key="first_hours",
        parts=("first_hours",),
        channel=Channel.SMS,
        category="first_hours",
        send_at=NOW,
        deadline=NOW + timedelta(hours=6),
        status=MessageStatus.SENT,
        id=41,
        revision=2,
        attempts=1,
        sent_at=NOW,
        body="not for the API",
    )
    e = Enrollment(
        id=7,
        idempotency_key="auto:x",
        created_at=NOW,
        patient=Patient("Ana", "Lopez", "+18055550142", None, "es", "America/Los_Angeles", id=3),
        procedure=ProcedureRecord("kyphoplasty", NOW, 2, True, "EPIC-77"),
        consents=[Consent(Channel.SMS, True, ConsentMethod.WRITTEN, "nurse.kim", NOW, True)],
        messages=[message],
    )
    out = EnrollmentOut.of(e).model_dump(mode="json")
    assert out["id"] == 7 and out["status"] == "active" and out["revision"] == 1
    assert out["patient"] == {
        "first_name": "Ana",
        "last_name": "Lopez",
        "phone": "+18055550142",
        "email": None,
        "language": "es",
        "timezone": "America/Los_Angeles",
    }
    assert out["procedure"]["external_id"] == "EPIC-77" and out["procedure"]["levels"] == 2
    assert out["consents"] == [
        {
            "channel": "sms",
            "given": True,
            "method": "written",
            "recorded_by": "nurse.kim",
            "recorded_at": "2026-05-04T17:00:00Z",
        }
    ]
    (m,) = out["messages"]
    assert (m["id"], m["revision"], m["status"], m["attempts"]) == (41, 2, "sent", 1)
    assert "body" not in m  # what went out is for staff pages, not the API


def test_an_error_names_its_field_or_none_for_the_whole_request():
    out = ErrorOut(detail="2 fields are wrong", errors=[{"field": "phone", "message": "digits"}])
    assert out.model_dump() == {
        "detail": "2 fields are wrong",
        "errors": [{"field": "phone", "message": "digits"}],
    }
    assert ErrorOut(detail="not found").errors == []
