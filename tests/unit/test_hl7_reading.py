"""Reading HL7 v2 ADT messages: every field from where docs/integration.md says, each problem
named by segment and field, and nothing guessed."""

from __future__ import annotations

from datetime import datetime

import pytest

from reminders.domain.model import Channel
from reminders.services.enrollments.hl7_reading import (
    CPT,
    Unprocessable,
    header,
    parse,
    read_adt,
)
from support.hl7_messages import a03, adt, pid


def read(text: str):  # type: ignore[no-untyped-def]
    message = parse(text)
    return read_adt(message, header(message))


def test_an_a03_in_the_standards_shape_is_read_whole():
    found = read(a03())
    assert found.header.sender == "EPIC^GOODHEALTH" and found.header.control_id == "MSG-A03-1"
    assert found.patient_identifier == "MRN12345^^^GH"  # the first of PID-3's repetitions
    assert (found.first_name, found.last_name, found.language) == ("Ana", "Lopez", "es")
    assert (found.phone, found.email) == ("(805)555-0142", "ana@example.org")  # CP over PH
    assert found.procedure_code == (CPT, "22513")
    assert found.performed_at == datetime(2026, 3, 7, 22, 0)  # naive: the clinic's time
    assert (found.visit_number, found.location) == ("VMRN12345", "SPINE^101^1^GH")
    assert {c.channel for c in found.consents} == {Channel.SMS, Channel.EMAIL}
    assert found.problems == []


def test_consent_is_only_what_the_obx_mapping_says():
    assert read(a03(consent=False)).consents == ()
    withdrawn = a03().replace("RR-CONSENT-SMS^Consent to reminder texts^L||Y||||||F",
                              "RR-CONSENT-SMS^Consent to reminder texts^L||Y||||||X")  # fmt: skip
    assert [c.channel for c in read(withdrawn).consents] == [Channel.EMAIL]
    declined = a03().replace("L||Y||||||F", "L||N||||||F")
    assert read(declined).consents == ()


def test_escape_sequences_and_offsets():
    found = read(a03().replace("Lopez^Ana^M", "O\\T\\Brien\\F\\X^Ana").replace(
        "||202603072200", "||202603072200-0800"))  # fmt: skip
    assert found.last_name == "O&Brien|X"
    assert found.performed_at is not None and found.performed_at.utcoffset() is not None


@pytest.mark.parametrize(
    ("change", "where", "code"),
    [
        (lambda m: m.replace("||202603072200", "||20260307"), "PR1-5", "102"),
        (lambda m: m.replace("||202603072200", "||yesterday"), "PR1-5", "102"),
        (lambda m: m.replace("22513^Kyphoplasty, thoracic^CPT", ""), "PR1-3", "101"),
        (lambda m: "\r".join(s for s in m.split("\r") if not s.startswith("PR1")), "PR1", "101"),
        (lambda m: m.replace("||SPA", "||FRA"), "PID-15", "103"),
        (lambda m: m.replace("MRN12345^^^GH^MR~", "~"), "PID-3", "101"),
    ],
)
def test_each_problem_names_its_segment_and_field(change, where, code):
    (problem,) = read(change(a03())).problems
    assert (problem.where, problem.code) == (where, code)


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        (lambda m: m.replace("|P|2.5.1", "|P|3.0", 1), 12, "203"),
        (lambda m: m.replace("|P|2.5.1", "|P|2.2", 1), 12, "203"),
        (lambda m: m.replace("ADT^A03^ADT_A03", "ORU^R01^ORU_R01", 1), 9, "200"),
        (lambda m: m.replace("|MSG-A03-1|", "||", 1), 10, "101"),
    ],
)
def test_what_cannot_be_processed_is_refused(change, field, code):
    message = parse(change(a03()))
    with pytest.raises(Unprocessable) as refused:
        header(message)
    assert (refused.value.problem.segment, refused.value.problem.field) == ("MSH", field)
    assert refused.value.problem.code == code


def test_not_hl7_is_refused():
    with pytest.raises(Unprocessable):
        parse("PID|1||x")


def test_an_a08_reads_contact_without_a_procedure():
    found = read(adt("A08", "X1", "MRN1", pid("MRN1", "^NET^Internet^new@example.org", "eng")))
    assert (found.email, found.phone, found.language) == ("new@example.org", None, "en")
    assert found.procedure_code is None and found.problems == []
