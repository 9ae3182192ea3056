"""REST API under /api/v1: create (idempotent on the EHR id), get, patch and cancel enrollments."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status

from reminders.domain.enrollment.commands import AddCaregiver, EnrollPatient, GiveConsent
from reminders.domain.errors import InvalidEnrollment
from reminders.domain.model import Enrollment
from reminders.domain.staff.accounts import ApiToken, Scope
from reminders.entrypoints.web import staff_session
from reminders.entrypoints.web.api.bodies import json_object, read_body, request_body
from reminders.entrypoints.web.api.schemas import (
    CancelIn,
    CaregiverIn,
    ConsentIn,
    EnrollmentIn,
    EnrollmentOut,
    EnrollmentPatch,
    EnrollmentRef,
    ErrorOut,
)
from reminders.entrypoints.web.deps import ContainerDep, EnrollToken, Id, ReadCaller
from reminders.entrypoints.web.staff.audit import ReadAuditDep
from reminders.services import audit
from reminders.services.enrollments import care, enrollment
from reminders.services.enrollments.enrollment import get_enrollment

# A write answers with what the token's scopes allow: the whole record with `read`, else
# only ids and statuses (an `enroll`-only token must not read patients through a write).
Written = EnrollmentOut | EnrollmentRef


def _answer(token: ApiToken, found: Enrollment, result: str) -> Written:
    if token.allows(Scope.READ):
        return EnrollmentOut.of(found, result)
    return EnrollmentRef.of(found, result)


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description}


# Each route documents only the answers it can give (tests/integration/test_openapi.py).
NO_TOKEN = _error("No valid API token (a staff cookie is not one).")
NO_SCOPE = _error("The token lacks this route's scope.")
NOT_FOUND = _error("No such enrollment.")
WRONG = _error("A field is wrong; each error names its field (`consents.1.method`).")
NOT_JSON = _error("The body is not JSON.")
TOO_LARGE = _error("The body is larger than the server takes (REMINDERS_MAX_BODY_BYTES).")
ERRORS: dict[int | str, dict[str, Any]] = {401: NO_TOKEN, 403: NO_SCOPE, 422: WRONG}
LOCATION = {
    "Location": {
        "description": "The enrollment's address: /api/v1/enrollments/{id}.",
        "schema": {"type": "string"},
    }
}

router = APIRouter(prefix="/api/v1", tags=["enrollments"], responses=ERRORS)


def _stand_ins(data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Valid values for wrong fields; their errors are reported, the stand-ins never stored.

    The consent stand-in follows the contact given, so it adds no error of its own.
    """
    channel = "email" if data.get("email") and not data.get("phone") else "sms"
    return {
        "first_name": "-",
        "last_name": "-",
        "procedure": "-",
        "performed_at": now,
        "timezone": None,
        "phone": None,
        "email": None,
        "language": "en",
        "levels": 1,
        "overnight": False,
        "external_id": None,
        "consents": [{"channel": channel}],
        "caregiver": None,
    }


def _caregiver(item: CaregiverIn | None) -> AddCaregiver | None:
    if item is None:
        return None
    return AddCaregiver(
        name=item.name,
        relationship=item.relationship,
        phone=item.phone,
        email=item.email,
        language=item.language,
        sms_consent=item.sms_consent,
        email_consent=item.email_consent,
    )


def _api_fields(errors: dict[str, str]) -> dict[str, str]:
    """The domain's `caregiver_phone` is the body's `caregiver.phone`."""
    return {re.sub(r"^caregiver_", "caregiver.", f): m for f, m in errors.items()}


def _consents(items: list[ConsentIn]) -> tuple[GiveConsent, ...]:
    return tuple(GiveConsent(i.channel, i.method, i.more_frequent_sms) for i in items)


@router.post(
    "/enrollments",
    response_model=Written,
    status_code=status.HTTP_201_CREATED,
    operation_id="createEnrollment",
    responses={
        200: {
            "model": Written,
            "description": "Already enrolled; unchanged.",
            "headers": LOCATION,
        },
        201: {"description": "Enrolled.", "headers": LOCATION},
        400: NOT_JSON,
        413: TOO_LARGE,
    },
    openapi_extra={"requestBody": request_body(EnrollmentIn)},
)
def create_enrollment(
    token: EnrollToken,  # first: a caller without a token learns nothing about the body
    data: Annotated[dict[str, Any], Depends(json_object)],
    response: Response,
    c: ContainerDep,
    request: Request,
) -> Written:
    """Enroll a patient whose procedure is done.

    Idempotent: the same `external_id` (or, without one, the same patient, procedure and
    time) returns the first enrollment with status 200 and adds nothing. A request with
    wrong fields gets one 422 naming every one of them.
    """
    body, unreadable = read_body(EnrollmentIn, data, stand_ins=_stand_ins(data, c.clock()))
    cmd = EnrollPatient(
        first_name=body.first_name,
        last_name=body.last_name,
        procedure=body.procedure,
        performed_at=body.performed_at,
        timezone=body.timezone or c.settings.clinic_timezone,
        phone=body.phone,
        email=body.email,
        language=body.language,
        levels=body.levels,
        overnight=body.overnight,
        external_id=body.external_id,
        consents=_consents(body.consents),
        enrolled_by=token.actor,
        caregiver=_caregiver(body.caregiver),
    )
    try:
        result = enrollment.enroll(
            cmd,
            uow=c.uow(),
            planning=c.planning,
            now=c.clock(),
            via="API",
            unreadable=unreadable,
            client_addr=staff_session.client_addr(request),
        )
    except InvalidEnrollment as exc:
        raise InvalidEnrollment(_api_fields(exc.errors)) from None
    if not result.created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/api/v1/enrollments/{result.enrollment.id}"
    return _answer(token, result.enrollment, "created" if result.created else "unchanged")


@router.get(
    "/enrollments/{enrollment_id}",
    response_model=EnrollmentOut,
    operation_id="getEnrollment",
    responses={404: NOT_FOUND},
)
def read_enrollment(
    enrollment_id: Id, c: ContainerDep, caller: ReadCaller, reads: ReadAuditDep
) -> EnrollmentOut:
    """The enrollment with its patient, consent and every message with its status."""
    found = get_enrollment(enrollment_id, uow=c.uow())
    reads(actor=caller, what="API GET enrollment", enrollment_id=found.id)
    return EnrollmentOut.of(found)


@router.patch(
    "/enrollments/{enrollment_id}",
    response_model=Written,
    operation_id="updateEnrollment",
    responses={
        404: NOT_FOUND,
        400: NOT_JSON,
        409: _error("The enrollment was cancelled; restart it before changing it."),
        413: TOO_LARGE,
    },
)
def patch_enrollment(
    token: EnrollToken, enrollment_id: Id, body: EnrollmentPatch, c: ContainerDep
) -> Written:
    """Correct the procedure time, change channels or language; unsent messages are re-planned.

    All the changes in one request apply together or not at all. Messages already sent
    stay as they were and are not sent again. A request that changes nothing (`{}`, or
    the values already set) answers `"result": "unchanged"` and is audited as such.
    """
    before = get_enrollment(enrollment_id, uow=c.uow())
    updated = care.update_enrollment(
        enrollment_id,
        uow=c.uow(),
        planning=c.planning,
        by=token.actor,
        now=c.clock(),
        performed_at=body.performed_at,
        channels=_consents(body.channels) if body.channels is not None else None,
        language=body.language,
    )
    if updated == before:
        audit.record_event(
            uow=c.uow(),
            actor=token.actor,
            action="unchanged",
            detail="API PATCH enrollment: nothing to change",
            now=c.clock(),
            enrollment_id=enrollment_id,
        )
        return _answer(token, updated, "unchanged")
    return _answer(token, updated, "changed")


@router.post(
    "/enrollments/{enrollment_id}/cancel",
    response_model=Written,
    operation_id="cancelEnrollment",
    responses={400: NOT_JSON, 404: NOT_FOUND, 413: TOO_LARGE},
)
def cancel_enrollment(
    token: EnrollToken, enrollment_id: Id, c: ContainerDep, body: CancelIn | None = None
) -> Written:
    """Cancel every unsent message and close the enrollment.

    Cancelling twice is harmless: the second answers `"result": "unchanged"`, and the log
    records a repeated request, not a second cancellation.
    """
    reason = body.reason if body else "cancelled through the API"
    before = get_enrollment(enrollment_id, uow=c.uow())
    done = enrollment.cancel(
        enrollment_id, uow=c.uow(), by=token.actor, reason=reason, now=c.clock()
    )
    return _answer(token, done, "unchanged" if before.status == "cancelled" else "changed")
