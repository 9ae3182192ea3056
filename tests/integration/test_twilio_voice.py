"""The voice adapter: a call through the real twilio client against Twilio's own OpenAPI
contract (Prism) and against the fake Twilio, failures mapped to ProviderError."""

from __future__ import annotations

import pytest
import test_twilio_contract as contract

from reminders.adapters.providers.ports import ProviderError
from reminders.adapters.providers.twilio_voice import TwilioVoice
from reminders.domain.inbound.oncall import spoken_alert
from reminders.domain.outbound.retry import ErrorClass

prism = contract.prism  # fixture


def test_a_call_matches_twilios_schema(prism):
    voice = TwilioVoice(
        account_sid=contract.ACCOUNT, auth_token="secret", from_number="+18055550100",
        api_base_url=prism,
    )  # fmt: skip
    sent = voice.place_call(to="+18055550199", twiml=spoken_alert("Clinic"), reference="rr-n1")
    assert sent.provider_id


def test_prism_does_reject_a_call_outside_the_schema(prism):
    voice = TwilioVoice(
        account_sid=contract.ACCOUNT, auth_token="secret", from_number="+18055550100",
        api_base_url=prism,
    )  # fmt: skip
    response = voice.client.request(
        "POST", f"{prism}/2010-04-01/Accounts/{contract.ACCOUNT}/Calls.json", data={"To": "+1"}
    )
    assert response.status_code in (400, 422), response.text


def test_the_fake_twilio_records_the_call_and_faults_become_provider_errors(twilio):
    voice = TwilioVoice(
        account_sid=twilio.account_sid, auth_token=twilio.auth_token,
        from_number="+18055550100", api_base_url=twilio.url,
    )  # fmt: skip
    sent = voice.place_call(to="+18055550199", twiml=spoken_alert("Clinic"), reference="rr-n2")
    (call,) = twilio.called("+18055550199")
    assert call["sid"] == sent.provider_id and call["from"] == "+18055550100"
    assert "check the inbox" in call["twiml"]
    twilio.fail(status=503, code=20503)
    with pytest.raises(ProviderError) as failed:
        voice.place_call(to="+18055550199", twiml=spoken_alert("Clinic"), reference="rr-n3")
    assert failed.value.error_class is ErrorClass.TRANSIENT


def test_a_messaging_service_alone_cannot_call():
    with pytest.raises(ValueError, match="TWILIO_FROM_NUMBER"):
        TwilioVoice(account_sid="AC" + "0" * 32, auth_token="x", from_number="")


def test_the_embedded_default_writes_the_call_to_the_outbox(container, settings):
    sent = container.delivery.voice.place_call(
        to="+18055550199", twiml=spoken_alert("Clinic"), reference="rr-n9"
    )
    assert sent.provider_id == "outbox-rr-n9"
    written = (settings.var_dir / "outbox" / "rr-n9.json").read_text()
    assert '"channel": "voice"' in written and "check the inbox" in written
