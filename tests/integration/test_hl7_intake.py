"""HL7 v2 intake: ADT messages enroll, update, pause and cancel through the same use cases as
every other door, each acknowledged (AA, AE with ERR, AR) and each outcome recorded."""

from __future__ import annotations

import re

import hl7
import pytest
from sqlalchemy import func, select
from webtools import add_staff, client, login, post_form

from reminders.adapters.db.orm import (
    audit_log,
    consents,
    enrollments,
    escalations,
    hl7_messages,
    patients,
    scheduled_messages,
)
from reminders.domain.staff.accounts import Role
from reminders.entrypoints.hl7.listener import door_of
from reminders.services.enrollments.hl7_intake import receive
from support.hl7_messages import a03, adt, pid


@pytest.fixture
def door(container):
    return door_of(container)


def msa(ack: str) -> tuple[str, str]:
    message = hl7.parse(ack)
    return str(message["MSA.F1"]), str(message["MSA.F2"])


def count(engine, table) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)


def status_of(engine) -> str:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return str(conn.scalar(select(enrollments.c.status)))


def test_a_discharge_with_a_procedure_enrolls_and_is_acknowledged(door, engine):
    handled = receive(a03(), door)
    assert msa(handled.ack) == ("AA", "MSG-A03-1")  # MSA-2 echoes MSH-10
    assert handled.outcome == "enrolled"
    with engine.connect() as conn:
        (patient,) = conn.execute(select(patients)).all()
        (e,) = conn.execute(select(enrollments)).all()
        given = conn.execute(select(consents.c.channel, consents.c.recorded_by)).all()
        row = conn.execute(select(hl7_messages)).one()
    # PID-13's repetitions: the cell phone (CP) over the home line, the NET email.
    assert (patient.phone, patient.email) == ("+18055550142", "ana@example.org")
    assert (patient.first_name, patient.last_name, patient.language) == ("Ana", "Lopez", "es")
    assert e.procedure == "kyphoplasty" and e.status == "active"
    assert {c for c, _ in given} == {"sms", "email"}
    assert {by for _, by in given} == {"hl7:EPIC^GOODHEALTH"}
    assert (row.patient_identifier, row.location) == ("MRN12345^^^GH", "SPINE^101^1^GH")
    assert count(engine, scheduled_messages) > 5


def test_the_same_message_again_gets_the_same_ack_and_changes_nothing(door, engine):
    first = receive(a03(), door)
    before = (count(engine, enrollments), count(engine, scheduled_messages))
    audits = count(engine, audit_log)
    again = receive(a03(), door)
    assert again.ack == first.ack and again.repeated
    assert (count(engine, enrollments), count(engine, scheduled_messages)) == before
    assert count(engine, audit_log) == audits and count(engine, hl7_messages) == 1


def test_the_same_discharge_under_a_new_control_id_enrolls_nothing_new(door, engine):
    receive(a03("MSG-1"), door)
    handled = receive(a03("MSG-2"), door)
    assert msa(handled.ack) == ("AA", "MSG-2") and handled.outcome == "duplicate"
    assert count(engine, enrollments) == 1


@pytest.mark.parametrize("when", ["202603072200", "202603072200-0800"])
def test_no_consent_in_the_message_waits_for_staff_and_sends_nothing(door, engine, when):
    handled = receive(a03(consent=False).replace("202603072200", when), door)
    assert msa(handled.ack)[0] == "AA" and handled.outcome == "consent_needed"
    assert count(engine, enrollments) == 0 and count(engine, scheduled_messages) == 0
    with door.new_uow() as uow:
        (waiting,) = uow.hl7.consent_needed()
    assert waiting.patient_identifier == "MRN12345^^^GH"


def test_a13_pauses_a_new_a03_resumes_and_a11_cancels(door, engine):
    receive(a03(), door)
    paused = receive(adt("A13", "MSG-A13", "MRN12345", pid()), door)
    assert msa(paused.ack) == ("AA", "MSG-A13") and paused.outcome == "paused"
    assert status_of(engine) == "paused"
    with engine.connect() as conn:
        assert conn.scalar(select(escalations.c.kind)) == "clinical_event"
    resumed = receive(a03("MSG-A03-again"), door)
    assert resumed.outcome == "resumed" and status_of(engine) == "active"
    cancelled = receive(adt("A11", "MSG-A11", "MRN12345", pid()), door)
    assert cancelled.outcome == "cancelled" and status_of(engine) == "cancelled"
    with engine.connect() as conn:
        unsent = conn.scalar(
            select(func.count())
            .select_from(scheduled_messages)
            .where(scheduled_messages.c.status == "scheduled")
        )
    assert unsent == 0


def test_a08_updates_contact_and_language(door, engine):
    receive(a03(), door)
    telecom = "(805)555-0177^PRN^CP~^NET^Internet^ana.lopez@example.org"
    handled = receive(adt("A08", "MSG-A08", "MRN12345", pid(telecom=telecom, language="ENG")), door)
    assert msa(handled.ack)[0] == "AA" and handled.outcome == "updated"
    with engine.connect() as conn:
        p = conn.execute(select(patients)).one()
    assert (p.phone, p.email, p.language) == ("+18055550177", "ana.lopez@example.org", "en")


def test_a_wrong_version_and_a_non_adt_message_are_refused(door, engine):
    wrong_version = a03().replace("|P|2.5.1", "|P|3.0", 1)
    handled = receive(wrong_version, door)
    assert msa(handled.ack) == ("AR", "MSG-A03-1")
    assert "MSH^1^12" in handled.ack and "|203^" in handled.ack
    oru = a03("MSG-ORU").replace("ADT^A03^ADT_A03", "ORU^R01^ORU_R01", 1)
    handled = receive(oru, door)
    assert msa(handled.ack) == ("AR", "MSG-ORU") and "MSH^1^9" in handled.ack
    assert count(engine, enrollments) == 0
    with engine.connect() as conn:
        outcomes = conn.execute(select(hl7_messages.c.outcome)).scalars().all()
    assert outcomes == ["refused", "refused"]  # both on the Interfaces page


def test_a_field_that_cannot_be_used_is_an_ae_naming_segment_and_field(door, engine):
    unknown_code = a03().replace("22513^Kyphoplasty, thoracic^CPT", "99213^Office visit^CPT")
    handled = receive(unknown_code, door)
    assert msa(handled.ack) == ("AE", "MSG-A03-1")
    assert "ERR|PR1^1^3^103" in handled.ack and "|PR1^1^3|103^" in handled.ack
    no_id = a03("MSG-2").replace("MRN12345^^^GH^MR~", "~")
    handled = receive(no_id, door)
    assert msa(handled.ack)[0] == "AE" and "|PID^1^3|101^" in handled.ack
    date_only = a03("MSG-3").replace("||202603072200", "||20260307")
    handled = receive(date_only, door)
    assert msa(handled.ack)[0] == "AE" and "|PR1^1^5|102^" in handled.ack
    assert count(engine, enrollments) == 0


def test_escape_sequences_are_read_as_their_characters(door, engine):
    message = a03().replace("Lopez^Ana^M", "Lopez\\T\\Diaz^Ana^M")
    handled = receive(message, door)
    assert msa(handled.ack)[0] == "AA", handled.ack
    with engine.connect() as conn:
        assert conn.scalar(select(patients.c.last_name)) == "Lopez&Diaz"


def test_an_event_not_acted_on_is_acknowledged_and_ignored(door, engine):
    a01 = adt("A01", "MSG-A01", "MRN12345", pid())
    handled = receive(a01, door)
    assert msa(handled.ack) == ("AA", "MSG-A01") and handled.outcome == "ignored"
    assert count(engine, enrollments) == 0


def test_not_hl7_at_all_is_refused(door):
    handled = receive("hello, this is not HL7", door)
    assert msa(handled.ack)[0] == "AR" and handled.outcome == "refused"


def test_consent_needed_shows_on_the_patient_list_and_staff_enroll_it(door, container, engine):
    receive(a03(consent=False), door)
    add_staff(container, "nurse.ann")
    nurse = client(container)
    login(nurse, "nurse.ann")
    listing = nurse.get("/staff/patients").text
    assert 'id="banner-consent-needed"' in listing and "1 hospital discharge waits" in listing
    page = nurse.get("/staff/interfaces/consent").text
    (waiting_id,) = re.findall(r'id="waiting-(\d+)"', page)
    assert "Ana Lopez" in page and "MRN12345^^^GH" in page
    r = post_form(
        nurse,
        "/staff/interfaces/consent",
        f"/staff/interfaces/consent/{waiting_id}/enroll",
        {"consent_sms": "on", "sms_method": "verbal"},
    )
    assert r.status_code == 200 and "/staff/patients/" in str(r.url), r.text
    with engine.connect() as conn:
        (given,) = conn.execute(select(consents.c.channel, consents.c.recorded_by)).all()
    assert tuple(given) == ("sms", "nurse.ann")
    assert count(engine, scheduled_messages) > 0
    assert "banner-consent-needed" not in nurse.get("/staff/patients").text
    assert 'id="none-waiting"' in nurse.get("/staff/interfaces/consent").text


def test_a_declined_discharge_is_closed_and_nothing_is_sent(door, container, engine):
    receive(a03(consent=False), door)
    add_staff(container, "nurse.ann")
    nurse = client(container)
    login(nurse, "nurse.ann")
    page = nurse.get("/staff/interfaces/consent").text
    (waiting_id,) = re.findall(r'id="waiting-(\d+)"', page)
    nothing_ticked = post_form(
        nurse, "/staff/interfaces/consent", f"/staff/interfaces/consent/{waiting_id}/enroll", {}
    )
    assert nothing_ticked.status_code == 422 and "tick the channels" in nothing_ticked.text
    post_form(
        nurse, "/staff/interfaces/consent", f"/staff/interfaces/consent/{waiting_id}/dismiss", {}
    )
    assert count(engine, enrollments) == 0 and count(engine, scheduled_messages) == 0
    assert 'id="none-waiting"' in nurse.get("/staff/interfaces/consent").text


def test_the_interfaces_page_lists_every_outcome_for_admins_only(door, container):
    receive(a03(), door)
    receive(a03("MSG-BAD").replace("22513^Kyphoplasty, thoracic^CPT", "99213^Visit^CPT"), door)
    receive(a03("MSG-OLD").replace("|P|2.5.1", "|P|2.1", 1), door)
    add_staff(container, "admin.ida", Role.ADMIN)
    admin = client(container)
    login(admin, "admin.ida")
    page = admin.get("/staff/interfaces").text
    table = page[page.index('id="hl7-messages"') :]
    assert table.count('<tr id="hl7-') == 3
    for words in ("MSG-A03-1", "enrolled", "MSG-BAD", "no care plan", ">AR<", "version 2.1"):
        assert words in table
    add_staff(container, "nurse.ann")
    nurse = client(container)
    login(nurse, "nurse.ann")
    assert nurse.get("/staff/interfaces").status_code == 403
