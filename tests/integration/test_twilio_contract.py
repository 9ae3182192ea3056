"""Contract: our Twilio requests, through the real client, against Twilio's own OpenAPI spec.

Prism serves tests/contracts/twilio_api_v2010.json and rejects any request that does
not match Twilio's published schema, so a wrong parameter name or a missing field fails.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from reminders.adapters.providers.twilio_sms import TwilioSms
from reminders.adapters.providers.twilio_voice import TwilioVoice
from support.processes import free_port, kill_group

SPEC = Path(__file__).resolve().parents[1] / "contracts" / "twilio_api_v2010.json"
ACCOUNT = "AC" + "a" * 32


@pytest.fixture(scope="module")
def prism(tmp_path_factory: pytest.TempPathFactory):
    assert SPEC.exists(), f"the Twilio contract is missing: {SPEC}"
    npx = shutil.which("npx")
    assert npx, "npx (Node.js) is needed to run Prism for the Twilio contract test"
    port = free_port()
    log = tmp_path_factory.mktemp("prism") / "prism.log"
    proc = subprocess.Popen(
        [
            npx,
            "--yes",
            "@stoplight/prism-cli@5",
            "mock",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            str(SPEC),
        ],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # npx runs Prism as a child: stop the whole group after
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180  # the first run downloads Prism from the npm registry
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"Prism exited: {log.read_text()[-2000:]}")
        try:
            requests.get(url, timeout=1)
            break
        except requests.RequestException:
            time.sleep(0.5)
    else:
        kill_group(proc)
        pytest.fail(f"Prism did not start: {log.read_text()[-2000:]}")
    yield url
    kill_group(proc, signal.SIGTERM)


def adapter(url: str, **kwargs: str) -> TwilioSms:
    return TwilioSms(
        account_sid=ACCOUNT,
        auth_token="secret",
        api_base_url=url,
        status_callback="https://clinic.example.org/webhooks/twilio/status",
        **kwargs,
    )


def test_send_with_a_from_number_matches_twilios_schema(prism):
    sent = adapter(prism, from_number="+18055550100").send_sms(
        to="+18055550142", body="Dr. Taqi Spine Care: hello", reference="rr-1"
    )
    assert sent.provider_id


def test_send_with_a_messaging_service_matches_twilios_schema(prism):
    sent = adapter(prism, messaging_service_sid="MG" + "b" * 32).send_sms(
        to="+18055550142", body="Dr. Taqi Spine Care: hello", reference="rr-2"
    )
    assert sent.provider_id


def test_the_reconciliation_lookup_matches_twilios_schema(prism):
    found = adapter(prism, from_number="+18055550100").find_sent(
        to="+18055550142",
        body="not in the mock",
        reference="rr-3",
        since=datetime.now(UTC) - timedelta(minutes=5),
    )
    assert all(f.provider_id for f in found)


def test_prism_does_reject_a_request_outside_the_schema(prism):
    """Proves the contract can fail: a create without To or Body is refused."""
    client = adapter(prism, from_number="+18055550100").client
    response = client.request(
        "POST",
        f"{prism}/2010-04-01/Accounts/{ACCOUNT}/Messages.json",
        data={"From": "+18055550100"},
    )
    assert response.status_code in (400, 422), response.text


def voice(url: str) -> TwilioVoice:
    return TwilioVoice(
        account_sid=ACCOUNT,
        auth_token="secret",
        from_number="+18055550100",
        api_base_url=url,
        status_callback="https://clinic.example.org/webhooks/twilio/status",
    )


def test_an_on_call_call_with_its_status_callback_matches_twilios_schema(prism):
    placed = voice(prism).place_call(
        to="+18055550199", twiml="<Response><Say>check the inbox</Say></Response>", reference="n1"
    )
    assert placed.provider_id
