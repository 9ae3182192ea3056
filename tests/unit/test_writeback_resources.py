"""The write-back's FHIR resources and the CapabilityStatement validate as R4 (R4B models);
the SMART backend-services assertion is signed so the EHR can check it."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir.resources.R4B.task import Task
from pydantic import ValidationError

from reminders.adapters.providers.fhir_client import SmartBackendServices
from reminders.services.writeback import resources
from reminders.services.writeback.chart import capability_statement

AT = datetime(2026, 3, 9, 17, 0, tzinfo=UTC)


def test_a_pain_answer_is_a_questionnaire_response_with_its_loinc_code():
    row = {"id": 7, "enrollment_id": 1, "patient_id": 3, "kind": "pain", "answer": "6",
           "pain": 6, "red_flag": False, "answered_at": AT}  # fmt: skip
    built = resources.questionnaire_response(row, "MRN1^^^GH")
    qr = QuestionnaireResponse.model_validate(built.resource)
    assert qr.item[0].linkId == "72514-3" and qr.item[0].answer[0].valueInteger == 6
    assert built.identifier == "urn:recovery-reminders:checkin-answer|7"
    assert built.resource["subject"] == {
        "identifier": {"system": "urn:recovery-reminders:mrn", "value": "MRN1^^^GH"}
    }


def test_a_sent_text_is_a_communication_and_an_acknowledgement_a_task():
    message = {"id": 42, "enrollment_id": 1, "patient_id": 3, "channel": "sms",
               "category": "warning", "kind": "care", "body": "Call 911 if ...",
               "sent_at": AT, "delivered_at": None, "status": "sent", "updated_at": AT}  # fmt: skip
    built = resources.communication(message, None)
    assert built.resource["medium"][0]["coding"][0]["code"] == "SMSWRIT"
    assert built.resource["subject"]["identifier"]["value"] == "3"
    flag = {"id": 5, "enrollment_id": 1, "patient_id": 3, "reason": "pain 9",
            "status": "acknowledged", "created_at": AT, "acknowledged_at": AT,
            "acknowledged_by": "nurse.kim", "updated_at": AT}  # fmt: skip
    task = Task.model_validate(resources.acknowledgement(flag, None).resource)
    assert task.status == "completed" and task.for_fhir is not None
    assert resources.flag(flag, None).business_id == "red-flag-5"


def test_a_resource_r4_does_not_allow_is_refused_before_it_is_queued():
    row = {"id": 7, "enrollment_id": 1, "patient_id": 3, "kind": "pain", "answer": "6",
           "pain": 6, "red_flag": False, "answered_at": AT}  # fmt: skip
    built = resources.questionnaire_response(row, None)
    bad = {**built.resource, "authored": "yesterday"}  # not a FHIR dateTime
    with pytest.raises(ValidationError):
        resources.validated("x", "s", "v", bad)


def test_the_capability_statement_is_r4_and_lists_each_interaction():
    statement = CapabilityStatement.model_validate(
        capability_statement(base_url="https://reminders.example.org", now=AT)
    )
    assert statement.fhirVersion == "4.0.1"
    (rest,) = statement.rest
    assert {r.type for r in rest.resource} == {
        "Procedure", "Encounter", "Communication", "QuestionnaireResponse", "Flag", "Task"
    }  # fmt: skip
    assert all(p.name == "patient" for r in rest.resource for p in r.searchParam or [])


def test_the_smart_assertion_is_an_rs384_jwt_for_the_token_url():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    auth = SmartBackendServices(
        token_url="https://ehr.example.org/token", client_id="rr", private_key=pem,
        key_id="k1", timeout=5,
    )  # fmt: skip
    head, claims, signature = auth.assertion(1_800_000_000).split(".")

    def decode(part: str) -> bytes:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

    assert json.loads(decode(head)) == {"alg": "RS384", "typ": "JWT", "kid": "k1"}
    body = json.loads(decode(claims))
    assert (body["iss"], body["sub"], body["aud"]) == ("rr", "rr", "https://ehr.example.org/token")
    assert body["exp"] == 1_800_000_300
    key.public_key().verify(
        decode(signature), f"{head}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA384()
    )
