"""Acknowledgement timers end to end with a fake clock: a red flag at 02:00 nobody answers is
paged again at 02:15, sent to the backup at 02:30, called in at 02:45 (the fake Twilio's
Calls endpoint), and stops the moment the on-call nurse texts "ACK <code>"."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime

import pytest
import test_webhooks as shared
from fastapi.testclient import TestClient
from sqlalchemy import select
from test_webhooks import DAY1_CHECKIN, ONCALL_PHONE, deliver, enroll, reply_of, text_in
from webtools import add_staff, login, post_form

from reminders.adapters.db.orm import audit_log, escalations, inbound_messages, notifications
from reminders.bootstrap import Container, bootstrap
from reminders.entrypoints.web.app import create_app
from reminders.services.replies.acknowledgement import climb_ladders
from reminders.services.replies.oncall import OnCall
from support.tasks import run_here

twilio, smtp = shared.twilio, shared.smtp  # fixtures
BACKUP = "+18055550177"
TWO_AM = datetime(2026, 5, 6, 9, 0, tzinfo=UTC)  # 02:00 in Los Angeles, day 2


@pytest.fixture
def live(settings, engine, clock, twilio, smtp) -> Container:  # type: ignore[no-untyped-def]
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
            "oncall_email": shared.ONCALL_EMAIL,
            "oncall_backup_phone": BACKUP,
        }
    )
    c = bootstrap(configured, engine=engine, clock=clock)
    c.send_task = run_here(c, [])
    return c


@pytest.fixture
def web(live) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(
        create_app(live), base_url="https://testserver", raise_server_exceptions=False
    )


def beat(c: Container, hour: int, minute: int) -> dict[str, int]:
    c.clock.now = TWO_AM.replace(hour=9 + hour - 2, minute=minute)  # type: ignore[attr-defined]
    return climb_ladders(
        uow=c.uow(), delivery=c.delivery, oncall=OnCall.from_settings(c.settings), now=c.clock
    )


def rows(engine, table):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(table).order_by(table.c.id)).all()


def test_nobody_answers_then_repage_backup_call_and_ack_by_text(live, web, engine, twilio):
    enroll(live)
    deliver(live, DAY1_CHECKIN)
    live.clock.now = TWO_AM
    text_in(web, live, "9")
    (page,) = twilio.sent_to(ONCALL_PHONE)
    code = re.search(r"Reply ACK ([A-Z0-9]{4}) when on it\.$", page["body"])
    assert code, page["body"]
    (e,) = rows(engine, escalations)
    assert (e.code, e.pages, e.status) == (code[1], 1, "open")
    assert e.next_page_at == TWO_AM.replace(minute=15)

    assert beat(live, 2, 14) == {}
    assert len(twilio.sent_to(ONCALL_PHONE)) == 1

    assert beat(live, 2, 15) == {"repage": 1, "alert_sent": 2}  # the text and the email again
    again = twilio.sent_to(ONCALL_PHONE)[-1]
    assert again["body"] == "Not yet acknowledged: " + page["body"]
    assert twilio.sent_to(BACKUP) == []

    assert beat(live, 2, 30) == {"backup": 1, "alert_sent": 1}  # the backup has no email
    (backup,) = twilio.sent_to(BACKUP)
    assert backup["body"] == "Not yet acknowledged: " + page["body"]
    assert twilio.calls == []

    assert beat(live, 2, 45) == {"call": 1, "alert_sent": 2}
    assert {c["to"] for c in twilio.calls} == {ONCALL_PHONE, BACKUP}
    twiml = twilio.called(ONCALL_PHONE)[0]["twiml"]
    assert (
        "Dr. Taqi Spine Care" in twiml
        and "a patient reported a warning sign; check the inbox" in twiml
    )
    for phi in ("Ana", "Lopez", "5550142", "pain", "9/10"):
        assert phi not in twiml  # never PHI in a call
    assert beat(live, 3, 30) == {}  # the top of the ladder: nothing more
    (e,) = rows(engine, escalations)
    assert (e.pages, e.next_page_at) == (4, None)

    steps = [(n.step, n.channel, n.recipient, n.status) for n in rows(engine, notifications)]
    assert steps == [
        ("page", "sms", ONCALL_PHONE, "sent"),
        ("page", "email", "oncall@clinic.example", "sent"),
        ("repage", "sms", ONCALL_PHONE, "sent"),
        ("repage", "email", "oncall@clinic.example", "sent"),
        ("backup", "sms", BACKUP, "sent"),
        ("call", "voice", ONCALL_PHONE, "sent"),
        ("call", "voice", BACKUP, "sent"),
    ]

    r = text_in(web, live, f"ack {code[1].lower()}", phone=BACKUP)
    assert reply_of(r) == f"Dr. Taqi Spine Care: alert #{e.id} acknowledged. Thank you."
    (e,) = rows(engine, escalations)
    assert (e.status, e.acknowledged_by) == ("acknowledged", "backup (text)")
    assert rows(engine, inbound_messages)[-1].action == "ack"
    again = text_in(web, live, f"ACK {code[1]}", phone=ONCALL_PHONE)
    assert "already acknowledged" in (reply_of(again) or "")

    actions = [a.action for a in rows(engine, audit_log) if a.action.startswith("escalation_")]
    assert actions == [
        "escalation_page",  # issue 20: the first page is audited too
        "escalation_repage",
        "escalation_backup",
        "escalation_call",
        "escalation_acknowledged",
    ]
    add_staff(live)
    login(web)
    page_html = web.get("/staff/inbox").text
    card = page_html[page_html.index(f'id="escalation-{e.id}"') :]
    steps_shown = re.findall(r'data-step="(\w+)"', card[: card.index("</ol>")])
    assert steps_shown == [
        "red_flag", "page", "page", "repage", "repage", "backup", "call", "call", "acknowledged"
    ]  # fmt: skip
    assert "acknowledged by backup (text)" in card and "voice call" in card


def test_acknowledging_in_the_inbox_stops_the_ladder(live, web, engine, twilio):
    enroll(live)
    deliver(live, DAY1_CHECKIN)
    live.clock.now = TWO_AM
    text_in(web, live, "9")
    (e,) = rows(engine, escalations)
    add_staff(live)
    login(web)
    post_form(web, "/staff/inbox", f"/staff/inbox/escalations/{e.id}/acknowledge", {"note": ""})
    (e,) = rows(engine, escalations)
    assert (e.status, e.next_page_at) == ("acknowledged", None)
    assert beat(live, 2, 15) == {} and beat(live, 2, 45) == {}
    assert len(twilio.sent_to(ONCALL_PHONE)) == 1 and twilio.calls == []


def test_a_patient_texting_ack_is_not_an_acknowledgement(live, web, engine):
    enroll(live)
    deliver(live, DAY1_CHECKIN)
    live.clock.now = TWO_AM
    text_in(web, live, "9")
    (e,) = rows(engine, escalations)
    text_in(web, live, f"ACK {e.code}")  # from the patient's own phone
    (e,) = rows(engine, escalations)
    assert e.status == "open"


def test_an_unknown_code_from_on_call_is_answered_and_left_for_staff(live, web, engine):
    r = text_in(web, live, "ACK ZZZZ", phone=ONCALL_PHONE)
    assert reply_of(r) == "Dr. Taqi Spine Care: no alert has code ZZZZ. Check the inbox."
    (t,) = rows(engine, inbound_messages)
    assert (t.action, t.needs_staff) == ("ack", True)


def test_two_beats_at_once_take_each_rung_once(live, web, engine, twilio):
    enroll(live)
    deliver(live, DAY1_CHECKIN)
    live.clock.now = TWO_AM
    text_in(web, live, "9")
    live.clock.now = TWO_AM.replace(minute=15)
    oncall = OnCall.from_settings(live.settings)
    other = bootstrap(live.settings, engine=engine, clock=live.clock)
    results: list[dict[str, int]] = []

    def run(c: Container) -> None:
        results.append(climb_ladders(uow=c.uow(), delivery=c.delivery, oncall=oncall, now=c.clock))

    threads = [threading.Thread(target=run, args=(c,)) for c in (live, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.get("repage", 0) for r in results) == 1
    assert len(twilio.sent_to(ONCALL_PHONE)) == 2


def test_a_backup_with_only_a_phone_gets_a_text_when_on_call_is_email_only(
    live, web, engine, twilio, smtp
):
    email_only = live.settings.model_copy(update={"oncall_phone": ""})
    c = bootstrap(email_only, engine=engine, clock=live.clock)
    c.send_task = run_here(c, [])
    web = TestClient(create_app(c), base_url="https://testserver", raise_server_exceptions=False)
    enroll(c)
    deliver(c, DAY1_CHECKIN)
    c.clock.now = TWO_AM  # type: ignore[attr-defined]
    text_in(web, c, "9")
    assert twilio.sent_to(ONCALL_PHONE) == []
    assert beat(c, 2, 15) == {"repage": 1, "alert_sent": 1}  # the email again
    assert beat(c, 2, 30) == {"backup": 1, "alert_sent": 1}
    (e,) = rows(engine, escalations)
    (text,) = twilio.sent_to(BACKUP)
    assert text["body"] == (
        f"Not yet acknowledged: red flag #{e.id}: pain 9/10 (8 or more). Check the inbox."
        f" Reply ACK {e.code}"
    )
    assert beat(c, 2, 45) == {"call": 1, "alert_sent": 1}  # the only phone: the backup's
    assert [call["to"] for call in twilio.calls] == [BACKUP]
    audit = [a.detail for a in rows(engine, audit_log) if a.action == "escalation_call"]
    assert audit == [f"#{e.id} not acknowledged 45 min after the red flag: call, called backup"]


def test_after_an_outage_the_overdue_rungs_keep_their_spacing(live, web, engine, twilio):
    enroll(live)
    deliver(live, DAY1_CHECKIN)
    live.clock.now = TWO_AM
    text_in(web, live, "9")
    # The workers were down from 02:05 to 03:00: the re-page, backup and call are all overdue.
    assert beat(live, 3, 0) == {"repage": 1, "alert_sent": 2}
    assert beat(live, 3, 1) == {}  # the backup does not follow a minute later
    assert beat(live, 3, 14) == {}
    assert beat(live, 3, 15) == {"backup": 1, "alert_sent": 1}
    assert beat(live, 3, 16) == {}
    assert beat(live, 3, 30) == {"call": 1, "alert_sent": 2}


def test_a_call_is_placed_once_when_the_worker_dies_after_placing_it(
    live, web, engine, twilio, monkeypatch
):
    from reminders.adapters.db.messages.notification_repository import NotificationRepository
    from reminders.services.delivery.notifications import retry_notifications
    from reminders.services.delivery.reconcile import reconcile_notifications

    enroll(live)
    deliver(live, DAY1_CHECKIN)
    live.clock.now = TWO_AM
    text_in(web, live, "9")
    beat(live, 2, 15)
    beat(live, 2, 30)

    def crash(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise SystemExit("worker killed after Twilio took the call")

    with monkeypatch.context() as m:
        m.setattr(NotificationRepository, "notification_sent", crash)
        with pytest.raises(SystemExit):
            beat(live, 2, 45)
    assert len(twilio.called(ONCALL_PHONE)) == 1  # placed, but never recorded
    (calling,) = [
        n
        for n in rows(engine, notifications)
        if n.channel == "voice" and n.recipient == ONCALL_PHONE
    ]
    assert calling.status == "sending"
    # Later the beat runs again: the call is confirmed from Twilio's calls list, not placed again.
    live.clock.now = TWO_AM.replace(hour=9, minute=50)
    # (the backup's call, which the dead worker never reached, goes now)
    assert retry_notifications(uow=live.uow(), delivery=live.delivery, now=live.clock) == {
        "sent": 1
    }
    assert len(twilio.called(BACKUP)) == 1
    counts = reconcile_notifications(uow=live.uow(), delivery=live.delivery, now=live.clock)
    assert counts["confirmed"] == 1 and counts["resend"] == 0
    assert len(twilio.called(ONCALL_PHONE)) == 1
    (settled,) = [n for n in rows(engine, notifications) if n.id == calling.id]
    assert settled.status == "sent" and settled.provider_id == twilio.called(ONCALL_PHONE)[0]["sid"]


def test_how_a_call_ended_is_recorded_and_an_unanswered_one_is_on_the_timeline(
    live, web, engine, twilio
):
    enroll(live)
    deliver(live, DAY1_CHECKIN)
    live.clock.now = TWO_AM
    text_in(web, live, "9")
    for minute in (15, 30, 45):
        beat(live, 2, minute)
    answered, unanswered = twilio.called(BACKUP)[0], twilio.called(ONCALL_PHONE)[0]
    for call, word in ((answered, "completed"), (unanswered, "no-answer")):
        params = {"CallSid": call["sid"], "CallStatus": word, "AccountSid": twilio.account_sid}
        assert shared.post_signed(web, live, "/webhooks/twilio/status", params).status_code == 200
    calls = {n.recipient: n for n in rows(engine, notifications) if n.channel == "voice"}
    assert (calls[BACKUP].status, calls[BACKUP].status_reason) == ("delivered", "call answered")
    assert (calls[ONCALL_PHONE].status, calls[ONCALL_PHONE].status_reason) == (
        "undelivered",
        "call not answered",
    )
    (e,) = rows(engine, escalations)
    assert "was not answered: call on-call staff yourself" in e.notes
    actions = [a.action for a in rows(engine, audit_log)]
    assert actions.count("escalation_call_unanswered") == 1
    # A replayed callback changes nothing more.
    params = {
        "CallSid": unanswered["sid"],
        "CallStatus": "no-answer",
        "AccountSid": twilio.account_sid,
    }
    shared.post_signed(web, live, "/webhooks/twilio/status", params)
    assert [a.action for a in rows(engine, audit_log)].count("escalation_call_unanswered") == 1
