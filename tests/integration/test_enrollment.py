"""Enrollment on real SQLite and PostgreSQL: one transaction, idempotent, cancel, reschedule."""

from __future__ import annotations

import copy
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, func, select

from reminders.adapters.db.orm import audit_log, enrollments, patients, scheduled_messages
from reminders.domain import errors
from reminders.domain.enrollment.commands import AddCaregiver, EnrollPatient, GiveConsent
from reminders.domain.model import Channel, ConsentMethod, MessageStatus
from reminders.services import audit
from reminders.services.enrollments import care
from reminders.services.enrollments import enrollment as svc

ANA = EnrollPatient(
    first_name="Ana",
    last_name="Lopez",
    phone="(805) 555-0142",
    email="ana@example.org",
    procedure="kyphoplasty",
    performed_at=datetime(2026, 3, 7, 23, 30),  # naive: the patient's local time
    timezone="America/Los_Angeles",
    consents=(GiveConsent(Channel.SMS), GiveConsent(Channel.EMAIL, ConsentMethod.WRITTEN)),
    enrolled_by="nurse.kim",
)


def enroll(container, cmd=ANA):
    return svc.enroll(
        cmd,
        uow=container.uow(),
        planning=container.planning,
        now=container.clock(),
        via="test",
    )


def count(engine, table):
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(table))


def test_enrollment_stores_patient_consent_and_schedule(container, engine):
    result = enroll(container)
    e = result.enrollment
    assert result.created
    assert e.patient.phone == "+18055550142"
    assert e.procedure.performed_at == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert {(c.channel, c.method, c.recorded_by) for c in e.consents} == {
        (Channel.SMS, ConsentMethod.VERBAL, "nurse.kim"),
        (Channel.EMAIL, ConsentMethod.WRITTEN, "nurse.kim"),
    }
    scheduled = [m for m in e.messages if m.status is MessageStatus.SCHEDULED]
    assert scheduled and all(m.send_at.tzinfo is UTC for m in scheduled)
    sms_days = [m.send_at.date() for m in scheduled if m.channel is Channel.SMS]
    assert len(sms_days) == len(set(sms_days)), "more than one SMS on a day"
    assert sum(m.first_sms for m in e.messages) == 1
    assert count(engine, scheduled_messages) == len(e.messages)


def test_the_enrollment_returned_is_the_one_stored_without_reading_it_back(container, engine):
    seen: list[str] = []

    def note(conn, cursor, statement, *rest):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    result = enroll(container, replace(ANA, external_id="EHR-9"))
    event.remove(engine, "before_cursor_execute", note)
    tables = ("enrollments", "patients", "consents", "scheduled_messages")
    assert not [s for s in seen if any(f"FROM {t}" in s for t in tables)], "read back"
    assert result.enrollment == svc.get_enrollment(result.enrollment.id, uow=container.uow())


def test_same_external_id_twice_gives_one_enrollment_and_one_set_of_messages(container, engine):
    cmd = replace(ANA, external_id="EHR-123")
    first = enroll(container, cmd)
    container.clock.advance(minutes=5)
    second = enroll(container, replace(cmd, first_name="Ana Maria"))
    assert first.created and not second.created
    assert second.enrollment.id == first.enrollment.id
    assert second.enrollment.patient.first_name == "Ana"  # the first one came back unchanged
    assert count(engine, enrollments) == 1
    assert count(engine, scheduled_messages) == len(first.enrollment.messages)


def test_a_double_submitted_form_without_external_id_enrolls_once(container, engine):
    enroll(container)
    assert not enroll(container).created
    assert count(engine, enrollments) == 1


def test_concurrent_enrollments_of_one_procedure_make_one(container, engine):
    cmd = replace(ANA, external_id="EHR-race")
    results, failures = [], []

    def go():
        try:
            results.append(enroll(container, cmd))
        except Exception as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=go) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    assert sum(r.created for r in results) == 1
    assert len({r.enrollment.id for r in results}) == 1
    assert count(engine, enrollments) == 1


def test_concurrent_enrollments_keep_one_unbroken_audit_chain(container, engine):
    """Each enrollment's audit entry links to the one before, however many commit at once."""
    cmds = [replace(ANA, last_name=f"Lopez{i}", external_id=f"EHR-{i}") for i in range(16)]
    cmds += cmds[:4]  # four repeats, racing their originals: entries of their own
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda cmd: enroll(container, cmd), cmds))
    checked = audit.verify(uow=container.uow(), seal=container.audit_seal)
    assert checked.broken is None
    assert checked.rows == len(cmds)
    assert sum(r.created for r in results) == 16
    with engine.connect() as conn:
        ids = conn.scalars(select(audit_log.c.id).order_by(audit_log.c.id)).all()
    assert ids == list(range(1, len(cmds) + 1))


@pytest.mark.parametrize(
    ("change", "field", "text"),
    [
        ({"phone": "555"}, "phone", "not a valid phone"),
        ({"timezone": "Pacific/Nowhere"}, "timezone", "not a time zone"),
        ({"procedure": "appendectomy"}, "procedure", "known procedures: kyphoplasty"),
        ({"language": "fr"}, "language", "en, es"),
        ({"consents": ()}, "consent", "consent"),
        ({"phone": None, "consents": (GiveConsent(Channel.SMS),)}, "phone", "no phone"),
        ({"performed_at": datetime(2026, 3, 9, 12, 0)}, "performed_at", "future"),
        ({"performed_at": datetime(2025, 6, 1, 12, 0)}, "performed_at", "days ago"),
        ({"email": "ana@"}, "email", "not an email"),
        ({"first_name": "  "}, "first_name", "first name"),
        ({"first_name": "A" * 10_000}, "first_name", "at most 100"),
        ({"external_id": "E" * 197}, "external_id", "at most 196"),
        ({"performed_at": datetime(2026, 3, 8, 2, 30)}, "performed_at", "did not happen"),
    ],
)
def test_bad_input_is_refused_clearly_and_stores_nothing(container, engine, change, field, text):
    with pytest.raises(errors.InvalidEnrollment) as refused:
        enroll(container, replace(ANA, **change))
    assert list(refused.value.errors) == [field]
    assert text in refused.value.errors[field]
    assert count(engine, patients) == 0
    assert count(engine, scheduled_messages) == 0


def test_a_failure_mid_enrollment_leaves_nothing(container, engine, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(
        "reminders.adapters.db.messages.message_repository.MessageRepository.add_many", boom
    )
    with pytest.raises(RuntimeError):
        enroll(container)
    assert count(engine, patients) == 0
    assert count(engine, enrollments) == 0


def test_cancel_stops_every_unsent_message(container, engine):
    e = enroll(container).enrollment
    after = svc.cancel(
        e.id, uow=container.uow(), by="nurse.kim", reason="patient asked", now=container.clock()
    )
    assert after.status == "cancelled"
    cancelled = sum(m.status is MessageStatus.CANCELLED for m in after.messages)
    assert cancelled == sum(m.status is MessageStatus.SCHEDULED for m in e.messages)
    assert not [m for m in after.messages if m.status is MessageStatus.SCHEDULED]
    assert all(
        "patient asked" in m.status_reason
        for m in after.messages
        if m.status is MessageStatus.CANCELLED
    )
    with pytest.raises(errors.EnrollmentClosed, match="restart its messages"):
        care.update_enrollment(
            e.id,
            performed_at=datetime(2026, 3, 7, 20, 0),
            uow=container.uow(),
            planning=container.planning,
            by="x",
            now=container.clock(),
        )


def test_unknown_enrollment(container):
    with pytest.raises(errors.EnrollmentNotFound):
        svc.get_enrollment(999, uow=container.uow())


def test_due_query_uses_the_index(engine):
    """The dispatcher's query must not scan the table at a million rows."""
    query = (
        select(scheduled_messages.c.id)
        .where(
            scheduled_messages.c.status == "scheduled",
            scheduled_messages.c.send_at <= datetime(2026, 1, 1, tzinfo=UTC),
        )
        .order_by(scheduled_messages.c.send_at)
        .limit(100)
    )
    compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            plan = " ".join(str(r) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")  # empty table: force the choice
            plan = " ".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {compiled}"))
    assert "ix_scheduled_messages_due" in plan


def test_performed_at_with_an_offset_is_respected(container):
    e = enroll(
        container,
        replace(ANA, performed_at=datetime(2026, 3, 8, 2, 30, tzinfo=UTC) - timedelta(hours=0)),
    ).enrollment
    assert e.procedure.performed_at == datetime(2026, 3, 8, 2, 30, tzinfo=UTC)


# ---- one intake path: the five doors refuse the same request the same way ---------------

LONG_NAME = {"first_name": "A" * 10_000}
LONG_EXTERNAL_ID = {"external_id": "E" * 250}


def _cli(container, monkeypatch, change):
    from click.testing import CliRunner

    from reminders.entrypoints.cli.main import main

    monkeypatch.setattr("reminders.entrypoints.cli.enrollments.container", lambda: container)
    args = {
        "--first-name": "Ana",
        "--last-name": "Lopez",
        "--phone": "(805) 555-0142",
        "--procedure": "kyphoplasty",
        "--performed-at": "2026-03-07T23:30",
        "--timezone": "America/Los_Angeles",
        "--consent": "sms",
        "--by": "nurse.kim",
    }
    for field, value in change.items():
        args["--" + field.replace("_", "-")] = value
    r = CliRunner().invoke(main, ["enroll", *[x for kv in args.items() for x in kv]])
    assert r.exit_code == 2, r.output
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("error: ")
    return r.stderr


def _form(container, monkeypatch, change):
    from webtools import FORM, add_staff, client, errors_on, login, post_form

    add_staff(container)
    c = client(container)
    login(c)
    r = post_form(c, "/staff/enroll", "/staff/enroll", {**FORM, **change})
    assert r.status_code == 422
    return " ".join(f"{k}: {v}" for k, v in errors_on(r.text).items())


def _rest(container, monkeypatch, change):
    from test_api import ANA as BODY
    from webtools import client, token

    c = client(container)
    r = c.post("/api/v1/enrollments", json={**BODY, **change}, headers=token(container))
    assert r.status_code == 422, r.text
    return " ".join(f"{e['field']}: {e['message']}" for e in r.json()["errors"])


def _csv(container, monkeypatch, change):
    from reminders.services.enrollments import intake
    from reminders.services.enrollments.csv_rows import read_csv

    values = {
        "first_name": "Ana",
        "last_name": "Lopez",
        "phone": "(805) 555-0142",
        "procedure": "kyphoplasty",
        "performed_at": "2026-03-07 23:30",
        "external_id": "EHR-9",
        "sms_consent": "verbal",
        **change,
    }
    text = ",".join(values) + "\n" + ",".join(values.values()) + "\n"
    run_id = intake.start_import(
        uow=container.uow(), filename="x.csv", rows=read_csv(text), by="nurse.kim", now=NOW
    )
    summary = intake.run_import(
        run_id,
        uow=container.uow(),
        planning=container.planning,
        clock=container.clock,
        default_timezone="America/Los_Angeles",
    )
    assert summary.rejected == 1
    _, rows = intake.import_report(uow=container.uow(), run_id=run_id)
    return f"{rows[0]['field']}: {rows[0]['message']}"


def _fhir(container, monkeypatch, change):
    from test_fhir import PROCEDURE
    from webtools import client, token

    body = copy.deepcopy(PROCEDURE)
    if "first_name" in change:
        body["contained"][0]["name"] = [{"given": [change["first_name"]], "family": "Lopez"}]
    if "external_id" in change:
        body["identifier"] = [{"system": "urn:oid:1.2.3.4", "value": change["external_id"]}]
    c = client(container)
    r = c.post("/fhir/Procedure", json=body, headers=token(container))
    assert r.status_code == 422, r.text
    return " ".join(i["diagnostics"] for i in r.json()["issue"])


NOW = datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
DOORS = {"cli": _cli, "form": _form, "rest": _rest, "csv": _csv, "fhir": _fhir}


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize(
    ("change", "field"), [(LONG_NAME, "first_name"), (LONG_EXTERNAL_ID, "external_id")]
)
def test_every_door_refuses_what_does_not_fit_and_stores_nothing(
    container, engine, monkeypatch, door, change, field
):
    said = DOORS[door](container, monkeypatch, change)
    assert field in said and ("at most" in said or "characters" in said), said
    assert "A" * 200 not in said and "E" * 200 not in said
    assert count(engine, patients) == 0
    assert count(engine, enrollments) == 0
    assert count(engine, scheduled_messages) == 0


def test_enrolling_writes_the_audit_entry_in_the_same_transaction(container, engine):
    from reminders.adapters.db.orm import audit_log

    enroll(container)
    enroll(container)
    with engine.connect() as conn:
        rows = conn.execute(select(audit_log.c.actor, audit_log.c.action)).all()
    assert rows == [("nurse.kim", "enrolled"), ("nurse.kim", "enroll_repeated")]


def test_a_failed_audit_entry_enrolls_nobody(container, engine, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("audit table gone")

    monkeypatch.setattr("reminders.adapters.db.staff.audit_repository.AuditRepository.add", boom)
    with pytest.raises(RuntimeError):
        enroll(container)
    assert count(engine, enrollments) == 0


# ---- enrolled late: the warning signs are caught up, not skipped ---------------------------

LATE_TEXT_ONLY = replace(
    ANA,
    email=None,
    consents=(GiveConsent(Channel.SMS),),
    performed_at=datetime(2026, 3, 6, 17, 30),  # 30 hours before the clock's 23:30 on the 7th
    caregiver=AddCaregiver(
        name="Rosa", relationship="daughter", phone="(805) 555-0199", sms_consent=True
    ),
)


def test_a_late_text_only_patient_gets_the_warning_text_first_next_morning(container, engine):
    e = enroll(container, LATE_TEXT_ONLY).enrollment
    assert e == svc.get_enrollment(e.id, uow=container.uow())  # stored as returned
    la = ZoneInfo("America/Los_Angeles")
    texts = [m for m in e.messages if m.channel is Channel.SMS and m.kind == "care"]
    first = next(m for m in texts if m.status is MessageStatus.SCHEDULED)
    assert first.step_key == "first_text_same_day" and first.first_sms
    # 23:30 at enrollment: 08:00 the next morning (daylight time began at 02:00), not at night.
    assert first.send_at.astimezone(la) == datetime(2026, 3, 8, 8, 0, tzinfo=la)
    assert first.status_reason.startswith("catch-up: its time had passed at enrollment")
    assert sum(m.first_sms for m in texts) == 1
    days = [m.send_at.astimezone(la).date() for m in texts if m.status is MessageStatus.SCHEDULED]
    assert len(days) == len(set(days)), "more than one text on a day"
    # The caregiver's safety texts too: each alone, a day apart, never at night.
    caregiver = [m for m in e.messages if m.kind == "caregiver"]
    assert [(m.step_key, m.status, m.send_at.astimezone(la).hour) for m in caregiver] == [
        ("caregiver_first_day", MessageStatus.SCHEDULED, 8),
        ("caregiver_red_flags", MessageStatus.SCHEDULED, 8),
    ]

    # It went out; a re-plan (the patient switches to Spanish) never sends it again.
    with engine.begin() as conn:
        conn.execute(
            scheduled_messages.update()
            .where(scheduled_messages.c.id == first.id)
            .values(status="sent", sent_at=first.send_at)
        )
    container.clock.advance(days=1)
    again = care.update_enrollment(
        e.id,
        language="es",
        uow=container.uow(),
        planning=container.planning,
        by="nurse.kim",
        now=container.clock(),
    )
    live = [m for m in again.messages if m.status is MessageStatus.SCHEDULED and m.kind == "care"]
    assert live and not any("first_text_same_day" in m.parts for m in live)
    assert not any(m.first_sms for m in live)
