"""TwilioSms against the fake Twilio: which failures leave the outcome unknown, Retry-After."""

from __future__ import annotations

import pytest

from reminders.adapters.providers import ProviderError
from reminders.adapters.twilio_sms import TwilioSms
from support.processes import free_port


def adapter(url: str, account_sid: str, token: str, timeout: float = 5) -> TwilioSms:
    return TwilioSms(
        account_sid=account_sid,
        auth_token=token,
        from_number="+18055550100",
        api_base_url=url,
        timeout=timeout,
    )


def test_a_read_timeout_is_an_unknown_outcome(twilio):
    sms = adapter(twilio.url, twilio.account_sid, twilio.auth_token, timeout=0.3)
    twilio.fail(hang=1.0, accept=True)
    with pytest.raises(ProviderError) as caught:
        sms.send_sms(to="+18055550142", body="hi", reference="rr-1")
    assert caught.value.unknown


def test_nothing_listening_is_surely_not_sent():
    sms = adapter(f"http://127.0.0.1:{free_port()}", "AC" + "0" * 32, "t")
    with pytest.raises(ProviderError) as caught:
        sms.send_sms(to="+18055550142", body="hi", reference="rr-1")
    assert not caught.value.unknown


def test_a_429_carries_retry_after_and_slows_the_sender(twilio):
    sms = adapter(twilio.url, twilio.account_sid, twilio.auth_token)
    twilio.fail(status=429, code=20429, retry_after=7)
    with pytest.raises(ProviderError) as caught:
        sms.send_sms(to="+18055550142", body="hi", reference="rr-1")
    exc = caught.value
    assert (exc.retry_after, exc.slows_the_sender, exc.unknown) == (7.0, True, False)
    assert sms.send_sms(to="+18055550142", body="hi", reference="rr-1").provider_id
