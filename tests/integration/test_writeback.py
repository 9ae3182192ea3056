"""Write-back to the chart: what was sent and answered reaches a FHIR server once, through a
durable outbox, across failures, timeouts, duplicates and a worker killed mid-delivery."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import test_webhooks as shared
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from sqlalchemy import select
from test_webhooks import DAY1_CHECKIN, deliver, enroll, text_in
from webtools import add_staff, login, token

from reminders.adapters.db.orm import enrollments, fhir_outbox, scheduled_messages
from reminders.adapters.providers.fhir_client import BearerToken, FhirClient, client_from
from reminders.bootstrap import bootstrap
from reminders.services.replies import inbox
from reminders.services.writeback import outbox
from support.fake_fhir import FakeFhir

twilio, smtp, live, web = shared.twilio, shared.smtp, shared.live, shared.web  # fixtures


@pytest.fixture
def fhir():
    fake = FakeFhir().start()
    yield fake
    fake.stop()


@pytest.fixture
def client(fhir) -> FhirClient:
    return FhirClient(fhir.url, BearerToken("chart-secret"), timeout=0.5)


def answered(live, web, words: str = "3") -> None:  # type: ignore[no-untyped-def]
    """Ana is enrolled, gets the day-1 check-in and answers it."""
    enroll(live)
    deliver(live, DAY1_CHECKIN)
    live.clock.advance(minutes=5)
    text_in(web, live, words)
    live.clock.advance(minutes=3)  # past the outbox's settle time


def outbox_rows(engine):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(fhir_outbox).order_by(fhir_outbox.c.id)).all()


class Killed(Exception):
    pass


class DiesAfterPosting(FhirClient):
    """A worker killed after the server stored the resource, before it wrote that down."""

    def create(self, resource, *, identifier):  # type: ignore[no-untyped-def]
        super().create(resource, identifier=identifier)
        raise Killed


def test_a_checkin_answer_reaches_the_chart_once_across_a_worker_kill(
    live, web, engine, clock, fhir
):
    answered(live, web, "3")
    assert outbox.fill(live.uow(), now=clock()) > 0
    dying = DiesAfterPosting(fhir.url, BearerToken("chart-secret"), timeout=2)
    with pytest.raises(Killed):
        outbox.deliver(live.uow, dying, now=clock)
    assert len(fhir.requests) == 1  # the first item reached the server, then the worker died

    # A new worker process (a new container on the same database), after the lease lapsed.
    clock.advance(minutes=3)
    restarted = bootstrap(live.settings, engine=engine, clock=clock)
    client = FhirClient(fhir.url, BearerToken("chart-secret"), timeout=2)
    outbox.deliver(restarted.uow, client, now=clock)
    outbox.deliver(restarted.uow, client, now=clock)

    (qr,) = fhir.of_type("QuestionnaireResponse")
    (item,) = qr["item"]
    assert item["linkId"] == "72514-3" and item["answer"] == [{"valueInteger": 3}]
    assert all(r["headers"]["Authorization"] == "Bearer chart-secret" for r in fhir.requests)
    assert all(r["headers"]["If-None-Exist"].startswith("identifier=") for r in fhir.requests)
    rows = outbox_rows(engine)
    assert {r.status for r in rows} == {"delivered"}
    # Sent twice (before and after the kill), stored once: every resource exactly once.
    identifiers = [r["headers"]["If-None-Exist"] for r in fhir.requests]
    assert len(identifiers) == len(rows) + 1 and len(fhir.stored) == len(rows)
    # Each message that went out is a Communication.
    with engine.connect() as conn:
        sent = conn.execute(
            select(scheduled_messages.c.id).where(
                scheduled_messages.c.status.in_(["sent", "delivered"])
            )
        ).all()
    assert len(fhir.of_type("Communication")) == len(sent) > 0


def test_a_failure_backs_off_shows_on_the_patient_page_then_delivers(
    live, web, engine, clock, fhir, client
):
    answered(live, web, "3")
    outbox.fill(live.uow(), now=clock())
    fhir.fail_next = [503] * 50
    done = outbox.deliver(live.uow, client, now=clock)
    assert done.failed > 0 and done.delivered == 0
    rows = outbox_rows(engine)
    assert all(r.attempts == 1 and "503" in r.last_error for r in rows)
    assert all(r.next_attempt_at == clock() + timedelta(seconds=30) for r in rows)

    add_staff(live)
    login(web)
    with engine.connect() as conn:
        eid = conn.scalar(select(enrollments.c.id))
    page = web.get(f"/staff/patients/{eid}").text
    assert 'id="chart-writeback"' in page and "not yet in the hospital chart" in page

    assert outbox.deliver(live.uow, client, now=clock).delivered == 0  # not due yet
    fhir.fail_next = []
    clock.advance(seconds=31)
    outbox.deliver(live.uow, client, now=clock)
    assert {r.status for r in outbox_rows(engine)} == {"delivered"}
    assert "chart-writeback" not in web.get(f"/staff/patients/{eid}").text


def test_a_timeout_is_retried_and_stored_once(live, web, engine, clock, fhir, client):
    answered(live, web, "3")
    outbox.fill(live.uow(), now=clock())
    fhir.delay = 1.0  # the client gives up after 0.5 s; the server stores it anyway
    done = outbox.deliver(live.uow, client, now=clock, limit=1)
    assert done.failed == 1
    (first, *_) = outbox_rows(engine)
    assert "no answer" in first.last_error
    fhir.delay = 0
    clock.advance(seconds=31)
    outbox.deliver(live.uow, client, now=clock)
    assert {r.status for r in outbox_rows(engine)} == {"delivered"}
    kinds = [r["resourceType"] for r in fhir.stored]
    assert len(kinds) == len(outbox_rows(engine))  # the slow one is not there twice


def test_a_412_for_a_duplicate_counts_as_delivered(live, web, engine, clock, fhir, client):
    answered(live, web, "3")
    outbox.fill(live.uow(), now=clock())
    fhir.duplicates_412 = True
    outbox.deliver(live.uow, client, now=clock)
    stored = len(fhir.stored)
    with engine.begin() as conn:  # as if the delivery had not been written down
        conn.execute(fhir_outbox.update().values(status="pending", next_attempt_at=clock()))
    done = outbox.deliver(live.uow, client, now=clock)
    assert done.delivered == stored and done.failed == 0
    assert len(fhir.stored) == stored


def test_a_red_flag_and_its_acknowledgement_become_a_flag_and_a_task(
    live, web, engine, clock, fhir, client
):
    answered(live, web, "9")  # pain 9: a red flag
    (flag,) = inbox.open_escalations(uow=live.uow())
    inbox.acknowledge(uow=live.uow(), escalation_id=flag.id, by="nurse.kim", note="", now=clock())
    clock.advance(minutes=3)
    outbox.write_back(live.uow, client, now=clock)
    (stored_flag,) = fhir.of_type("Flag")
    assert "9" in stored_flag["code"]["text"] and stored_flag["status"] == "active"
    (task,) = fhir.of_type("Task")
    assert task["status"] == "completed" and "nurse.kim" in task["description"]
    assert task["focus"]["identifier"]["value"] == str(flag.id)


def test_the_chart_can_pull_the_same_resources(live, web, engine, clock, fhir):
    answered(live, web, "3")
    outbox.fill(live.uow(), now=clock())
    with engine.connect() as conn:
        patient_id = conn.scalar(select(enrollments.c.patient_id))
    ehr = web
    ehr.headers.update(token(live, "epic"))
    r = ehr.get(f"/fhir/QuestionnaireResponse?patient=Patient/{patient_id}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/fhir+json")
    bundle = Bundle.model_validate(r.json())
    assert bundle.total == 1
    assert bundle.entry[0].resource.item[0].linkId == "72514-3"
    communications = ehr.get(f"/fhir/Communication?patient={patient_id}").json()
    assert communications["total"] > 0
    assert ehr.get("/fhir/Flag?patient=Patient/999").json()["total"] == 0
    assert ehr.get("/fhir/Communication").status_code == 400
    ehr.headers.pop("Authorization")
    assert ehr.get(f"/fhir/Communication?patient={patient_id}").status_code == 401


def test_metadata_is_an_r4_capability_statement_of_what_is_supported(web):
    r = web.get("/fhir/metadata")
    assert r.status_code == 200
    statement = CapabilityStatement.model_validate(r.json())
    assert statement.fhirVersion == "4.0.1" and statement.kind == "instance"
    (rest,) = statement.rest
    supported = {(res.type, i.code) for res in rest.resource for i in res.interaction}
    assert supported == {
        ("Procedure", "create"),
        ("Encounter", "create"),
        ("Communication", "search-type"),
        ("QuestionnaireResponse", "search-type"),
        ("Flag", "search-type"),
        ("Task", "search-type"),
    }
    # Every interaction listed answers (not 404/405) at the path it names.
    for res in rest.resource:
        method = "post" if res.interaction[0].code == "create" else "get"
        assert getattr(web, method)(f"/fhir/{res.type}").status_code not in (404, 405)


DELIVER_IN_A_WORKER = """
import sys
from reminders.adapters.providers.fhir_client import BearerToken, FhirClient, client_from
from reminders.bootstrap import bootstrap
from reminders.services.writeback import outbox
c = bootstrap()
outbox.deliver(c.uow, FhirClient(sys.argv[1], BearerToken("chart-secret"), timeout=60), now=c.clock)
"""


def test_a_worker_process_killed_mid_delivery_leaves_it_delivered_once(
    live, web, engine, clock, fhir, client
):
    answered(live, web, "3")
    outbox.fill(live.uow(), now=clock())
    with engine.begin() as conn:  # only the answer is left to deliver
        conn.execute(
            fhir_outbox.update()
            .where(fhir_outbox.c.resource_type != "QuestionnaireResponse")
            .values(status="delivered")
        )
    fhir.hold = threading.Event()
    env = {
        **os.environ,
        "REMINDERS_DATABASE_URL": live.settings.database_url,
        "REMINDERS_VAR_DIR": str(live.settings.var_dir),
        "REMINDERS_ENVIRONMENT": "test",
    }
    worker = subprocess.Popen([sys.executable, "-c", DELIVER_IN_A_WORKER, fhir.url], env=env)
    try:
        deadline = time.monotonic() + 60
        while not fhir.stored and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.05)
        assert fhir.of_type("QuestionnaireResponse"), "the worker never reached the server"
        worker.send_signal(signal.SIGKILL)  # killed before it could write down the answer
        worker.wait(10)
    finally:
        fhir.hold.set()
        fhir.hold = None
        if worker.poll() is None:
            worker.kill()
    (row,) = [r for r in outbox_rows(engine) if r.resource_type == "QuestionnaireResponse"]
    assert row.status == "pending"  # the outbox row survived the kill

    clock.now = datetime.now(UTC) + timedelta(minutes=3)  # after the worker's lease
    restarted = bootstrap(live.settings, engine=engine, clock=clock)
    assert outbox.deliver(restarted.uow, client, now=clock).delivered == 1
    assert len(fhir.of_type("QuestionnaireResponse")) == 1  # sent twice, stored once
    assert {r.status for r in outbox_rows(engine)} == {"delivered"}


def test_smart_backend_services_get_a_token_once_and_use_it(live, web, engine, clock, fhir):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = live.settings.var_dir / "fhir-key.pem"
    pem.parent.mkdir(parents=True, exist_ok=True)
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    settings = live.settings.model_copy(
        update={
            "fhir_writeback_url": fhir.url,
            "fhir_writeback_token_url": fhir.url.replace("/fhir", "/auth/token"),
            "fhir_writeback_client_id": "recovery-reminders",
            "fhir_writeback_private_key": pem,
        }
    )
    smart = client_from(settings)
    assert smart is not None
    answered(live, web, "3")
    outbox.write_back(live.uow, smart, now=clock)
    assert fhir.of_type("QuestionnaireResponse")
    (asked,) = fhir.token_requests  # one token for the whole pass
    assert asked["grant_type"] == "client_credentials"
    assert asked["client_assertion_type"].endswith("jwt-bearer") and asked["client_assertion"]
    assert "system/QuestionnaireResponse.write" in asked["scope"]
    assert {r["headers"]["Authorization"] for r in fhir.requests} == {"Bearer issued-1"}


@pytest.mark.parametrize("patient", ["¹", "Patient/x", "99999999999999999999", ""])
def test_a_patient_that_is_not_a_number_is_a_400(web, live, patient):
    web.headers.update(token(live, "epic"))
    r = web.get("/fhir/Communication", params={"patient": patient})
    assert r.status_code == 400 and r.json()["resourceType"] == "OperationOutcome"
