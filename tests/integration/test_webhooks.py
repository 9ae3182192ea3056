"""Twilio webhooks through the real app and the real twilio RequestValidator: signatures,
status callbacks (replayed, out of order, lost), keywords and texts nobody expected."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator
from webtools import add_staff, login

from reminders.adapters.db.orm import inbound_messages, scheduled_messages, sms_opt_outs
from reminders.adapters.providers.twilio_status import status_lookup
from reminders.bootstrap import Container, bootstrap
from reminders.domain.enrollment.commands import EnrollPatient, GiveConsent
from reminders.domain.model import Channel
from reminders.entrypoints.web.app import create_app
from reminders.services.delivery.dispatch import dispatch_due
from reminders.services.delivery.sending import send_message
from reminders.services.delivery.status import poll_unsettled
from reminders.services.enrollments import enrollment as enroll_svc
from support.fake_twilio import FakeTwilio
from support.smtp import start_smtp
from support.tasks import run_here

PUBLIC = "https://reminders.clinic.example"
ONCALL_PHONE = "+18055550199"
ONCALL_EMAIL = "oncall@clinic.example"
QUEUED: list[tuple[str, tuple[object, ...]]] = []  # tasks web requests queued
SENDER = "+18055550100"
PERFORMED = datetime(2026, 5, 4, 14, 0, tzinfo=UTC)  # Monday 07:00 in Los Angeles
DAY0_TEXT = PERFORMED + timedelta(hours=2)  # the first-hours text, 09:00
DAY1_CHECKIN = PERFORMED + timedelta(hours=26)  # day 1, 09:00: pain 0-10 and warning signs
DAY3_CHECKIN = datetime(2026, 5, 7, 19, 0, tzinfo=UTC)  # day 3, 12:00: warning signs
DAY7_CHECKIN = datetime(2026, 5, 11, 19, 0, tzinfo=UTC)  # day 7, 12:00: pain again
ANA = EnrollPatient(
    first_name="Ana",
    last_name="Lopez",
    phone="+18055550142",
    email="ana@example.org",
    procedure="kyphoplasty",
    performed_at=PERFORMED,
    timezone="America/Los_Angeles",
    consents=(GiveConsent(Channel.SMS), GiveConsent(Channel.EMAIL)),
    enrolled_by="nurse.kim",
)
LUIS = replace(
    ANA,
    first_name="Luis",
    last_name="Garcia",
    phone="+18055550143",
    email="luis@example.org",
    language="es",
)


class StatusTwilio(FakeTwilio):
    """The fake Twilio, which can also return one message (what the polling fallback asks)."""

    def _list(self, h):  # type: ignore[no-untyped-def]
        found = re.search(r"/Messages/(SM[0-9a-f]+)\.json$", urlparse(h.path).path)
        if found is None:
            return super()._list(h)
        message = next((m for m in self.messages if m["sid"] == found[1]), None)
        if message is None:
            return self._send(h, 404, {"code": 20404, "message": "not found", "status": 404})
        return self._send(h, 200, message)

    def set_status(self, sid: str, status: str, error_code: int | None = None) -> None:
        for m in self.messages:
            if m["sid"] == sid:
                m["status"], m["error_code"] = status, error_code


@pytest.fixture
def twilio():
    fake = StatusTwilio().start()
    yield fake
    fake.stop()


@pytest.fixture
def smtp():
    controller, inbox = start_smtp()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def live(settings, engine, clock, twilio, smtp) -> Container:
    """SMS through the fake Twilio, email to a real SMTP server, on-call by both."""
    controller, _ = smtp
    clock.now = PERFORMED
    configured = settings.model_copy(
        update={
            "public_url": PUBLIC,
            "twilio_account_sid": twilio.account_sid,
            "twilio_auth_token": twilio.auth_token,
            "twilio_from_number": SENDER,
            "twilio_api_base_url": twilio.url,
            "smtp_host": controller.hostname,
            "smtp_port": controller.port,
            "smtp_starttls": False,
            "email_from": "Dr. Taqi Spine Care <care@clinic.example>",
            "sms_rate_per_second": 1000.0,
            "oncall_phone": ONCALL_PHONE,
            "oncall_email": ONCALL_EMAIL,
        }
    )
    c = bootstrap(configured, engine=engine, clock=clock)
    c.send_task = run_here(c, QUEUED)  # the workers' part of a web request, in process
    return c


@pytest.fixture
def web(live) -> TestClient:
    # https: with an https REMINDERS_PUBLIC_URL the staff session cookie is Secure.
    return TestClient(
        create_app(live), base_url="https://testserver", raise_server_exceptions=False
    )


# ---- helpers the other reply tests share ---------------------------------------------------


def enroll(c: Container, cmd: EnrollPatient = ANA) -> int:
    result = enroll_svc.enroll(cmd, uow=c.uow(), planning=c.planning, now=c.clock(), via="test")
    assert result.enrollment.id is not None
    return result.enrollment.id


def deliver(c: Container, at: datetime) -> None:
    """Move the clock and send everything due, as beat and a worker would."""
    c.clock.now = at  # type: ignore[attr-defined]
    claimed: list[int] = []
    dispatch_due(uow=c.uow(), enqueue=claimed.extend, now=c.clock)
    for mid in claimed:
        send_message(mid, uow=c.uow(), delivery=c.delivery, now=c.clock)


def sign(token: str, path: str, params: dict[str, str]) -> str:
    return RequestValidator(token).compute_signature(PUBLIC + path, params)


def post_signed(web: TestClient, c: Container, path: str, params: dict[str, str]):  # type: ignore[no-untyped-def]
    signature = sign(c.settings.twilio_auth_token, path, params)
    return web.post(path, data=params, headers={"X-Twilio-Signature": signature})


_sids = iter(range(1, 10**6))


def text_in(
    web: TestClient,
    c: Container,
    body: str,
    *,
    phone: str = ANA.phone or "",
    sid: str | None = None,
):  # type: ignore[no-untyped-def]
    """A patient's text arriving at /webhooks/twilio/inbound, signed like Twilio does."""
    params = {
        "MessageSid": sid or f"SMin{next(_sids):030d}",
        "AccountSid": c.settings.twilio_account_sid,
        "From": phone,
        "To": SENDER,
        "Body": body,
        "NumMedia": "0",
    }
    r = post_signed(web, c, "/webhooks/twilio/inbound", params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/xml")
    return r


def reply_of(response) -> str | None:  # type: ignore[no-untyped-def]
    found = re.search(r"<Message>(.*)</Message>", response.text, re.S)
    return found[1] if found else None


def status_in(web: TestClient, c: Container, sid: str, status: str, code: str | None = None):  # type: ignore[no-untyped-def]
    params = {
        "MessageSid": sid,
        "MessageStatus": status,
        "AccountSid": c.settings.twilio_account_sid,
    }
    if code:
        params["ErrorCode"] = code
    return post_signed(web, c, "/webhooks/twilio/status", params)


def sms_rows(engine, phone: str | None = None):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(
            select(scheduled_messages)
            .where(scheduled_messages.c.channel == "sms")
            .order_by(scheduled_messages.c.send_at)
        ).all()


def row(engine, mid: int):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(scheduled_messages).where(scheduled_messages.c.id == mid)).one()


def sent_text(engine, twilio: FakeTwilio, to: str = ANA.phone or ""):  # type: ignore[no-untyped-def]
    """The newest text Twilio took for `to`, and its row."""
    message = twilio.sent_to(to)[-1]
    with engine.connect() as conn:
        r = conn.execute(
            select(scheduled_messages).where(scheduled_messages.c.provider_id == message["sid"])
        ).one()
    return message, r


def count(engine, table) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)


# ---- signatures -------------------------------------------------------------------------------


def test_unsigned_or_wrongly_signed_requests_get_403_and_store_nothing(live, web, engine):
    enroll(live)
    params = {"MessageSid": "SM" + "1" * 32, "From": ANA.phone, "To": SENDER, "Body": "STOP"}
    path = "/webhooks/twilio/inbound"
    token = live.settings.twilio_auth_token
    assert web.post(path, data=params).status_code == 403
    wrong = {"X-Twilio-Signature": sign("another-token", path, params)}
    assert web.post(path, data=params, headers=wrong).status_code == 403
    # Signed for the address the app sees (not the public one Twilio called): rejected.
    local = RequestValidator(token).compute_signature(f"{web.base_url}{path}", params)
    r = web.post(path, data=params, headers={"X-Twilio-Signature": local})
    assert r.status_code == 403 and "REMINDERS_PUBLIC_URL" in r.json()["detail"]
    tampered = {**params, "Body": "START"}
    good = {"X-Twilio-Signature": sign(token, path, params)}
    assert web.post(path, data=tampered, headers=good).status_code == 403
    status = {"MessageSid": "SM" + "2" * 32, "MessageStatus": "delivered"}
    assert web.post("/webhooks/twilio/status", data=status).status_code == 403
    assert count(engine, inbound_messages) == 0 and count(engine, sms_opt_outs) == 0
    assert all(r.status == "scheduled" for r in sms_rows(engine))

    assert web.post(path, data=params, headers=good).status_code == 200  # the same, signed
    assert count(engine, inbound_messages) == 1 and count(engine, sms_opt_outs) == 1


def test_a_signature_over_a_query_string_is_checked_with_it(live, web):
    path = "/webhooks/twilio/status?source=messaging-service"
    params = {"MessageSid": "SM" + "3" * 32, "MessageStatus": "sent"}
    signature = sign(live.settings.twilio_auth_token, path, params)
    assert web.post(path, data=params, headers={"X-Twilio-Signature": signature}).status_code == 200
    no_query = sign(live.settings.twilio_auth_token, "/webhooks/twilio/status", params)
    assert web.post(path, data=params, headers={"X-Twilio-Signature": no_query}).status_code == 403


def test_without_an_auth_token_no_webhook_is_accepted(container):
    web = TestClient(create_app(container), raise_server_exceptions=False)
    r = web.post(
        "/webhooks/twilio/inbound",
        data={"From": "+1", "Body": "x"},
        headers={"X-Twilio-Signature": "x"},
    )
    assert r.status_code == 403 and "TWILIO_AUTH_TOKEN" in r.json()["detail"]


def test_webhooks_need_no_login_but_the_inbox_does(live, web):
    assert web.get("/staff/inbox", follow_redirects=False).status_code == 303
    assert text_in(web, live, "hello").status_code == 200


# ---- delivery status ------------------------------------------------------------------------


def test_a_status_never_goes_backwards_through_replays_and_late_callbacks(
    live, web, engine, twilio
):
    enroll(live)
    deliver(live, DAY0_TEXT)
    message, r = sent_text(engine, twilio)
    assert r.status == "sent" and message["status_callback"] == f"{PUBLIC}/webhooks/twilio/status"
    sid = message["sid"]
    for word in ("queued", "sent"):  # Twilio's early words: already "sent" for us
        assert status_in(web, live, sid, word).status_code == 200
        assert row(engine, r.id).status == "sent"
    live.clock.advance(minutes=1)
    status_in(web, live, sid, "delivered")
    delivered = row(engine, r.id)
    assert delivered.status == "delivered" and delivered.delivered_at == live.clock.now
    live.clock.advance(minutes=1)
    for word in ("delivered", "sent", "queued", "undelivered", "failed"):  # replays, late ones
        assert status_in(web, live, sid, word, "30003").status_code == 200
    again = row(engine, r.id)
    assert (again.status, again.delivered_at, again.error_code) == (
        "delivered",
        delivered.delivered_at,
        None,
    )


def test_a_final_status_that_arrives_first_wins(live, web, engine, twilio):
    enroll(live)
    deliver(live, DAY0_TEXT)
    message, r = sent_text(engine, twilio)
    status_in(web, live, message["sid"], "undelivered", "30003")
    status_in(web, live, message["sid"], "sent")
    status_in(web, live, message["sid"], "delivered")
    final = row(engine, r.id)
    assert (final.status, final.error_code, final.error_class) == (
        "undelivered",
        "30003",
        "transient",
    )


@pytest.mark.parametrize(
    ("word", "code", "error_class"),
    [
        ("undelivered", "30008", "transient"),
        ("failed", "30006", "permanent"),
        ("failed", "21211", "permanent"),
    ],
)
def test_failures_keep_twilios_code_and_its_class(
    live, web, engine, twilio, word, code, error_class
):
    enroll(live)
    deliver(live, DAY0_TEXT)
    message, r = sent_text(engine, twilio)
    status_in(web, live, message["sid"], word, code)
    failed = row(engine, r.id)
    assert (failed.status, failed.error_code, failed.error_class) == (word, code, error_class)
    assert word in failed.status_reason


def test_a_21610_callback_opts_the_patient_out(live, web, engine, twilio):
    enroll(live)
    deliver(live, DAY0_TEXT)
    message, _ = sent_text(engine, twilio)
    status_in(web, live, message["sid"], "undelivered", "21610")
    with engine.connect() as conn:
        assert conn.execute(select(sms_opt_outs.c.active, sms_opt_outs.c.source)).one() == (
            True,
            "carrier_21610",
        )
    assert {r.status for r in sms_rows(engine) if r.send_at > live.clock.now} == {"cancelled"}


def test_unknown_sids_and_odd_words_are_acknowledged_and_bad_callbacks_are_400(live, web):
    assert status_in(web, live, "SM" + "9" * 32, "delivered").status_code == 200
    assert status_in(web, live, "SM" + "9" * 32, "receiving").status_code == 200
    r = post_signed(web, live, "/webhooks/twilio/status", {"MessageSid": "SM" + "9" * 32})
    assert r.status_code == 400 and "MessageStatus" in r.json()["detail"]
    r = post_signed(web, live, "/webhooks/twilio/inbound", {"Body": "hi"})
    assert r.status_code == 400 and "From" in r.json()["detail"]


def test_polling_settles_a_text_whose_callback_was_lost(live, engine, twilio):
    enroll(live)
    deliver(live, DAY0_TEXT)
    message, r = sent_text(engine, twilio)
    lookup = status_lookup(live.delivery.sms)
    after = timedelta(minutes=30)
    assert poll_unsettled(uow=live.uow(), lookup=lookup, now=live.clock, after=after) == {}
    live.clock.advance(minutes=31)
    twilio.set_status(message["sid"], "sent")  # the carrier has not reported yet
    assert poll_unsettled(uow=live.uow(), lookup=lookup, now=live.clock, after=after) == {
        "unchanged": 1
    }
    assert poll_unsettled(uow=live.uow(), lookup=lookup, now=live.clock, after=after) == {}  # asked
    live.clock.advance(minutes=31)
    twilio.set_status(message["sid"], "undelivered", 30003)
    assert poll_unsettled(uow=live.uow(), lookup=lookup, now=live.clock, after=after) == {
        "updated": 1
    }
    settled = row(engine, r.id)
    assert (settled.status, settled.error_code, settled.error_class) == (
        "undelivered",
        "30003",
        "transient",
    )
    assert (
        status_lookup(
            bootstrap(
                live.settings.model_copy(update={"twilio_account_sid": ""}), engine=engine
            ).delivery.sms
        )
        is None
    )


# ---- keywords ----------------------------------------------------------------------------------

STOPS = [
    "STOP",
    "stop",
    " Stop. ",
    "STOPALL",
    "Stop all",
    "unsubscribe",
    "CANCEL",
    "end",
    "Quit!",
    "REVOKE",
    "optout",
    "Opt out",
    # Spanish (docs/rules.md, rule 12): the Spanish opt-out line names PARAR.
    "CANCELAR",
    "Parar",
    "baja",
    "ALTO.",
]
STARTS = [
    "START",
    "start",
    "Yes",
    "UNSTOP",
    " unstop! ",
    "START",
    "yes.",
    "Start",
    "UNSTOP",
    "start",
    "YES",
    "Start.",
    "COMENZAR",
    "alta",
    "Comenzar.",
    "START",
]


def test_every_opt_out_and_opt_in_keyword_variant(live, web, engine):
    enroll(live)
    future = [r.id for r in sms_rows(engine) if r.status == "scheduled"]
    assert len(future) >= 5
    for stop, start in zip(STOPS, STARTS, strict=True):
        r = text_in(web, live, stop)
        assert reply_of(r) is None, stop  # Twilio sends its own confirmation for STOP
        with engine.connect() as conn:
            opt = conn.execute(select(sms_opt_outs)).one()
        assert opt.active and opt.source == "keyword" and opt.opted_out_at == live.clock.now
        assert stop.strip(" .!").upper().replace(" ", "") in opt.detail.upper().replace(" ", "")
        assert {row(engine, i).status for i in future} == {"cancelled"}, stop
        live.clock.advance(minutes=1)
        assert reply_of(text_in(web, live, start)) is None
        with engine.connect() as conn:
            assert not conn.scalar(select(sms_opt_outs.c.active))
        assert {row(engine, i).status for i in future} == {"scheduled"}, start
        live.clock.advance(minutes=1)


def test_a_spanish_text_only_patient_who_writes_cancelar_gets_nothing_more(
    live, web, engine, twilio
):
    # The Spanish opt-out line names PARAR; CANCELAR (what "para cancelar" used to invite)
    # must opt the patient out just the same (issue 12).
    luis = replace(LUIS, email=None, consents=(GiveConsent(Channel.SMS),))
    enroll(live, luis)
    deliver(live, DAY0_TEXT)
    (first,) = twilio.sent_to(luis.phone)
    assert "responda PARAR" in first["body"]
    live.clock.advance(hours=1)
    assert reply_of(text_in(web, live, "Cancelar", phone=luis.phone or "")) is None
    with engine.connect() as conn:
        assert conn.execute(select(sms_opt_outs.c.active)).scalar_one()
    ahead = [r for r in sms_rows(engine) if r.send_at > live.clock.now]
    assert len(ahead) >= 6 and {r.status for r in ahead} == {"cancelled"}
    deliver(live, DAY7_CHECKIN + timedelta(hours=1))
    assert len(twilio.sent_to(luis.phone)) == 1


def test_opting_back_in_restores_future_texts_and_never_replays_past_ones(
    live, web, engine, twilio
):
    enroll(live)
    deliver(live, DAY1_CHECKIN)  # day 1's check-in went out
    live.clock.now = datetime(2026, 5, 7, 18, 0, tzinfo=UTC)  # day 3, 11:00
    text_in(web, live, "STOP")
    live.clock.now = DAY3_CHECKIN + timedelta(hours=2)  # day 3's text was due while opted out
    text_in(web, live, "START")
    by_key = {r.step_key: r for r in sms_rows(engine)}
    assert by_key["checkin_pain_day1"].status == "sent"  # sent before: untouched
    assert by_key["checkin_warning_day3"].status == "cancelled"  # its time passed: not replayed
    later = [r for r in sms_rows(engine) if r.send_at > live.clock.now]
    assert later and {r.status for r in later} == {"scheduled"}
    assert {r.status_reason for r in later} == {"restored: the patient opted back in"}
    sent = len(twilio.sent_to(ANA.phone))
    deliver(live, DAY3_CHECKIN + timedelta(hours=3))
    # Day 1 asks about numbness too now (both questions a day): count texts instead.
    assert len(twilio.sent_to(ANA.phone)) == sent


def test_help_and_info_answer_with_the_clinic_and_how_to_stop(live, web, engine):
    enroll(live)
    enroll(live, LUIS)
    for word in ("HELP", "info", " Help? "):
        reply = reply_of(text_in(web, live, word))
        assert reply and "Dr. Taqi Spine Care" in reply and "805-242-4884" in reply
        assert "STOP" in reply and "911" in reply
    spanish = reply_of(text_in(web, live, "AYUDA", phone=LUIS.phone or ""))
    assert spanish and "responda PARAR" in spanish and "805-242-4884" in spanish
    with engine.connect() as conn:
        assert set(conn.scalars(select(inbound_messages.c.action))) == {"help"}


def test_a_replayed_text_is_handled_once(live, web, engine):
    enroll(live)
    first = text_in(web, live, "where is my appointment?", sid="SM" + "a" * 32)
    again = text_in(web, live, "where is my appointment?", sid="SM" + "a" * 32)
    assert reply_of(first) == reply_of(again) and reply_of(first)
    assert count(engine, inbound_messages) == 1


def test_texts_nobody_expected_are_kept_and_shown_to_staff(live, web, engine):
    enroll(live)
    stranger = text_in(web, live, "Who is this?", phone="+18055550777")
    assert "911" in (reply_of(stranger) or "")
    text_in(web, live, "thanks for the info!")  # a patient, but no question is open
    with engine.connect() as conn:
        rows = conn.execute(select(inbound_messages).order_by(inbound_messages.c.id)).all()
    assert [(r.action, r.needs_staff, r.enrollment_id is None) for r in rows] == [
        ("unmatched", True, True),
        ("unmatched", True, False),
    ]
    add_staff(live)
    login(web)
    page = web.get("/staff/inbox").text
    assert "Who is this?" in page and "+18055550777" in page and "unknown number" in page
    assert "thanks for the info!" in page and "Ana Lopez" in page


def test_a_text_that_breaks_the_handler_is_still_stored(live, web, engine, monkeypatch):
    from reminders.services.replies import inbound as replies

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("bug")

    monkeypatch.setattr(replies, "receive_sms", broken)
    r = text_in(web, live, "pain is 9")
    assert reply_of(r) is None
    with engine.connect() as conn:
        stored = conn.execute(select(inbound_messages)).one()
    assert (stored.body, stored.action, stored.needs_staff) == ("pain is 9", "error", True)


def test_an_opted_out_phone_is_not_answered_until_it_opts_back_in(live, web, engine):
    enroll(live)
    deliver(live, DAY3_CHECKIN)  # a warning question is open
    text_in(web, live, "stop")
    assert reply_of(text_in(web, live, "no")) is None  # kept for staff; Twilio would block a reply
    assert reply_of(text_in(web, live, "YES")) is None  # opted out: YES opts back in
    with engine.connect() as conn:
        rows = conn.execute(select(inbound_messages).order_by(inbound_messages.c.id)).all()
        assert not conn.scalar(select(sms_opt_outs.c.active))
    assert [(r.action, r.needs_staff) for r in rows] == [
        ("opt_out", False),
        ("unmatched", True),
        ("opt_in", False),
    ]


# ---- hostile input: a clear 4xx or the text kept, never a 500 (PostgreSQL refuses NUL) ------


def test_a_nul_in_a_text_is_kept_as_a_replacement_character(web, live, engine):
    enroll(live)
    r = post_signed(
        web,
        live,
        "/webhooks/twilio/inbound",
        {"MessageSid": "SM" + "a" * 32, "From": ANA.phone or "", "Body": "help\x00me"},
    )
    assert r.status_code == 200
    with engine.connect() as conn:
        assert conn.scalar(select(inbound_messages.c.body)) == "help\ufffdme"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/webhooks/twilio/inbound", {"From": "+1" * 5000, "Body": "hi"}),
        ("/webhooks/twilio/inbound", {"From": "+1805\x00555", "Body": "hi"}),
        ("/webhooks/twilio/inbound", {"From": "+18055550142", "MessageSid": "SM" + "f" * 5000}),
        ("/webhooks/twilio/status", {"MessageSid": "SM\x00", "MessageStatus": "failed"}),
        ("/webhooks/twilio/status", {"MessageSid": "SM1", "MessageStatus": "x" * 5000}),
        (
            "/webhooks/twilio/status",
            {"MessageSid": "SM1", "MessageStatus": "failed", "ErrorCode": "9" * 99},
        ),
    ],
)
def test_a_value_twilio_never_sends_is_a_clear_400_and_nothing_is_stored(
    web, live, engine, path, params
):
    r = post_signed(web, live, path, params)
    assert r.status_code == 400 and "not a Twilio value" in r.json()["detail"]
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(inbound_messages)) == 0
