"""No phone number or email of a patient in any log line of a whole run, at DEBUG everywhere."""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx
import pytest
from twilio.request_validator import RequestValidator
from webtools import add_staff, client, login, token

from reminders.entrypoints.logs import install_phi_filter, mask
from reminders.entrypoints.web.app import create_app
from reminders.services.delivery.dispatch import dispatch_due
from reminders.services.delivery.sending import send_message
from support.tasks import run_here
from support.web_server import serve

ANA_PHONE, ANA_EMAIL = "+18055550191", "ana.lopez@example.org"
BEN_PHONE, BEN_EMAIL = "+18055550177", "ben.okafor@example.net"
# Every way a number or address could be written into a line.
SECRETS = [
    ANA_PHONE, "8055550191", "805-555-0191", "(805) 555-0191", "5550191", "555-0191",
    BEN_PHONE, "8055550177", "805-555-0177", "5550177", "555-0177",
    ANA_EMAIL, "ana.lopez", "%40example.org", BEN_EMAIL, "ben.okafor",
]  # fmt: skip
VERBOSE = ["", "reminders", "twilio", "twilio.http_client", "sqlalchemy.engine", "uvicorn"]


def _patient(first: str, last: str, phone: str, email: str, performed: str) -> dict:
    return {
        "first_name": first,
        "last_name": last,
        "phone": phone,
        "email": email,
        "procedure": "kyphoplasty",
        "performed_at": performed,
        "timezone": "America/Los_Angeles",
        "consents": [{"channel": "sms"}, {"channel": "email"}],
    }


def test_chatty_loggers_are_quiet_once_installed():
    install_phi_filter()
    assert logging.getLogger("twilio").level == logging.WARNING


@pytest.mark.parametrize(
    "line,hidden",
    [
        ("The 'To' number +18055550191 is not a valid phone number.", "8055550191"),
        ("POST /Messages.json To=%2B18055550191&Body=hi", "8055550191"),
        ("patient (805) 555-0191 / 805.555.0191 / 8055550191", "555"),
        ("to ana.lopez@example.org and ana.lopez%40example.org", "ana.lopez"),
    ],
)
def test_mask_hides_numbers_and_addresses(line, hidden):
    assert hidden not in mask(line)


def test_a_whole_run_logs_no_phone_or_email(live, engine, twilio, caplog):
    install_phi_filter()
    for name in ("httpx", "httpcore"):  # the test's own HTTP client, not the app
        caplog.set_level(logging.WARNING, logger=name)
    for name in VERBOSE:  # last: caplog's handler takes the level of the last call
        caplog.set_level(logging.DEBUG, logger=name)
    live.send_task = run_here(live, [])
    add_staff(live)
    api = client(live)
    performed = (live.clock() - timedelta(hours=2)).isoformat()
    headers = token(live)
    for body in (
        _patient("Ana", "Lopez", "(805) 555-0191", ANA_EMAIL, performed),
        _patient("Ben", "Okafor", "805.555.0177", BEN_EMAIL, performed),
    ):
        assert api.post("/api/v1/enrollments", json=body, headers=headers).status_code == 201
    too_long = _patient("A" * 150, "Lopez", "805-555-0191", ANA_EMAIL, performed)
    r = api.post("/api/v1/enrollments", json={**too_long, "external_id": "X-1"}, headers=headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "first_name"

    # Dispatch and send; Ben's number is refused as Twilio does (21211, with the number).
    twilio.fail(
        status=400,
        code=21211,
        to=BEN_PHONE,
        message="The 'To' number {to} is not a valid phone number.",
    )
    claimed: list[int] = []
    dispatch_due(uow=live.uow(), enqueue=claimed.extend, now=live.clock)
    assert claimed
    for mid in claimed:
        send_message(mid, uow=live.uow(), delivery=live.delivery, now=live.clock)
    assert twilio.sent_to(ANA_PHONE) and not twilio.sent_to(BEN_PHONE)

    # Ana replies; the webhook is signed as Twilio signs it.
    params = {
        "MessageSid": "SMin" + "1" * 30,
        "AccountSid": live.settings.twilio_account_sid,
        "From": ANA_PHONE,
        "To": live.settings.twilio_from_number,
        "Body": f"pain is bad, call me at 805-555-0191 or write {ANA_EMAIL}",
        "NumMedia": "0",
    }
    signature = RequestValidator(live.settings.twilio_auth_token).compute_signature(
        live.settings.public_url + "/webhooks/twilio/inbound", params
    )
    r = api.post("/webhooks/twilio/inbound", data=params, headers={"X-Twilio-Signature": signature})
    assert r.status_code == 200

    # A nurse searches by phone digits, email and name, through a real uvicorn (access log).
    with serve(create_app(live)) as port, httpx.Client(base_url=f"http://127.0.0.1:{port}") as web:
        login(web)  # type: ignore[arg-type]
        for q in ("8055550191", "805-555-0191", ANA_EMAIL, "Lopez"):
            found = web.get("/staff/patients", params={"q": q})
            assert found.status_code == 200, (q, found.status_code)
            assert "Lopez" in found.text, q

    try:
        raise ValueError(f"The 'To' number {BEN_PHONE} is not valid ({BEN_EMAIL})")
    except ValueError:
        logging.getLogger("reminders.test").exception("provider error for %s", BEN_PHONE)

    captured = [caplog.text] + [r.getMessage() + (r.exc_text or "") for r in caplog.records]
    text = "\n".join(captured)
    assert "uvicorn.access" in {r.name for r in caplog.records}  # the access log was on
    assert "twilio" in text.lower() and "21211" in text  # the provider error was logged
    leaks = [s for s in SECRETS if s.lower() in text.lower()]
    assert leaks == [], [line for line in text.splitlines() if any(s in line for s in leaks)][:5]
    assert "q=Lopez" not in text  # search terms stay out of the access log
    assert "Lopez" not in text and "Okafor" not in text  # nor names (SQLAlchemy's rows)
