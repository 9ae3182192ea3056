"""Paging cannot fall through a gap (issue 20), through the real app and the fake Twilio:
a red flag while nobody in the rota is on duty pages the fallback at once, or, with none,
the next person on duty as their shift starts; every red flag and first page is audited;
"7" then "YES" is a red flag, not an opt-in; "ack <code> on it" acknowledges; the most
severe finding heads the escalation, the page and the audit."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import test_webhooks as shared
from fastapi.testclient import TestClient
from sqlalchemy import select
from test_webhooks import DAY1_CHECKIN, ONCALL_PHONE, deliver, enroll, reply_of, text_in

from reminders.adapters.db.orm import audit_log, checkin_answers, escalations, inbound_messages
from reminders.bootstrap import Container, bootstrap
from reminders.entrypoints.web.app import create_app
from reminders.services.replies.acknowledgement import climb_ladders
from reminders.services.replies.oncall import OnCall
from support.tasks import run_here

twilio, smtp = shared.twilio, shared.smtp  # fixtures
DAY_RN, NIGHT_RN = "+18055550101", "+18055550102"
# The rota: Day 07:00-15:00 and Night 19:00-07:00 (Los Angeles), nobody 15:00-19:00.
ROTA = json.dumps(
    [
        {"name": "Day RN", "phone": DAY_RN, "start": "07:00", "end": "15:00"},
        {"name": "Night RN", "phone": NIGHT_RN, "start": "19:00", "end": "07:00"},
    ]
)
GAP = datetime(2026, 5, 5, 22, 13, tzinfo=UTC)  # Tuesday 15:13 in Los Angeles
NIGHT_STARTS = datetime(2026, 5, 6, 2, 0, tzinfo=UTC)  # 19:00 in Los Angeles


def container(settings, engine, clock, twilio, smtp, **update):  # type: ignore[no-untyped-def]
    controller, _ = smtp
    clock.now = shared.PERFORMED
    configured = settings.model_copy(
        update={
            "public_url": shared.PUBLIC,
            "twilio_account_sid": twilio.account_sid,
            "twilio_auth_token": twilio.auth_token,
            "twilio_from_number": shared.SENDER,
            "twilio_api_base_url": twilio.url,
            "smtp_host": controller.hostname,
            "smtp_port": controller.port,
            "smtp_starttls": False,
            "email_from": "Dr. Taqi Spine Care <care@clinic.example>",
            "sms_rate_per_second": 1000.0,
            "oncall_phone": ONCALL_PHONE,
            "oncall_email": "",
            "oncall_rota": ROTA,
            **update,
        }
    )
    c = bootstrap(configured, engine=engine, clock=clock)
    c.send_task = run_here(c, [])
    return c


@pytest.fixture
def live(settings, engine, clock, twilio, smtp) -> Container:  # type: ignore[no-untyped-def]
    return container(settings, engine, clock, twilio, smtp)


def client(c: Container) -> TestClient:
    return TestClient(create_app(c), base_url="https://testserver", raise_server_exceptions=False)


def rows(engine, table):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(table).order_by(table.c.id)).all()


def test_a_red_flag_in_a_rota_gap_pages_the_fallback_at_once_and_is_audited(live, engine, twilio):
    web = client(live)
    enroll(live)
    live.clock.now = GAP  # type: ignore[attr-defined]
    text_in(web, live, "chest pain")
    (page,) = twilio.sent_to(ONCALL_PHONE)  # the fallback, at once
    assert "chest pain" in page["body"]
    assert twilio.sent_to(DAY_RN) == twilio.sent_to(NIGHT_RN) == []
    (e,) = rows(engine, escalations)
    assert "Nobody in the on-call rota was on duty" in e.notes
    assert "Night RN comes on duty at Tue 7:00 PM PDT" in e.notes
    audited = {(a.action, a.actor): a.detail for a in rows(engine, audit_log)}
    assert audited[("red_flag", "system")] == f"#{e.id} red flag: {e.reason}"
    assert audited[("escalation_page", "system")] == f"#{e.id} first page: paged on-call by text"


def test_with_no_fallback_the_next_shift_is_paged_as_it_starts(
    settings, engine, clock, twilio, smtp
):  # type: ignore[no-untyped-def]
    # Start-up refuses this setting; a rota changed under a running service still pages.
    live = container(settings, engine, clock, twilio, smtp, oncall_phone="")
    web = client(live)
    enroll(live)
    live.clock.now = GAP  # type: ignore[attr-defined]
    text_in(web, live, "I fell in the bathroom")
    assert twilio.sent_to(DAY_RN) == twilio.sent_to(NIGHT_RN) == twilio.sent_to(ONCALL_PHONE) == []
    (e,) = rows(engine, escalations)
    assert e.next_page_at == NIGHT_STARTS and "Night RN comes on duty" in e.notes
    oncall = OnCall.from_settings(live.settings)
    live.clock.now = NIGHT_STARTS - timedelta(minutes=1)  # type: ignore[attr-defined]
    assert (
        climb_ladders(uow=live.uow(), delivery=live.delivery, oncall=oncall, now=live.clock) == {}
    )
    live.clock.now = NIGHT_STARTS  # type: ignore[attr-defined]
    climb_ladders(uow=live.uow(), delivery=live.delivery, oncall=oncall, now=live.clock)
    (night,) = twilio.sent_to(NIGHT_RN)
    assert f"ACK {e.code}" in night["body"] and "fell" in night["body"]


def test_a_bare_yes_after_a_pain_number_is_a_red_flag_not_an_opt_in(live, engine, twilio):
    web = client(live)
    enroll(live)
    deliver(live, DAY1_CHECKIN)
    live.clock.advance(minutes=5)
    assert "Thank you" in (reply_of(text_in(web, live, "7")) or "")
    live.clock.advance(minutes=4)
    urgent = reply_of(text_in(web, live, "YES"))
    assert urgent and "Call us now" in urgent
    (answer,) = rows(engine, checkin_answers)
    assert (answer.answer, answer.pain, answer.red_flag) == ("7 yes", 7, True)
    assert [t.action for t in rows(engine, inbound_messages)] == ["answer", "red_flag"]
    assert len(twilio.sent_to(DAY_RN)) == 1  # day 1, 07:00-15:00: the Day RN is on call


@pytest.mark.parametrize("shape", ["ack {low} on it", "{code} ok", "Ack: {code}."])
def test_ack_anywhere_in_the_text_acknowledges(live, engine, twilio, shape):
    web = client(live)
    enroll(live)
    deliver(live, DAY1_CHECKIN)
    text_in(web, live, "9 no")
    (e,) = rows(engine, escalations)
    reply = reply_of(
        text_in(web, live, shape.format(code=e.code, low=e.code.lower()), phone=DAY_RN)
    )
    assert reply and f"alert #{e.id} acknowledged" in reply
    (e,) = rows(engine, escalations)
    assert (e.status, e.acknowledged_by) == ("acknowledged", "Day RN (text)")


@pytest.mark.parametrize(
    "words", ["I have a fever and chest pain", "tengo fiebre y dolor de pecho"]
)
def test_the_most_severe_finding_heads_the_escalation_the_page_and_the_audit(
    live, engine, twilio, words
):
    web = client(live)
    enroll(live)
    live.clock.advance(hours=3)
    text_in(web, live, words)
    (e,) = rows(engine, escalations)
    assert re.match(r'wrote "(chest pain|dolor de pecho)" in a text \(911: chest\); also', e.reason)
    (page,) = twilio.sent_to(DAY_RN)
    assert page["body"].index("(911: chest)") < page["body"].index("(call: fever)")
    audited = [a.detail for a in rows(engine, audit_log) if a.action == "red_flag"]
    assert audited and "(911: chest); also" in audited[0]
