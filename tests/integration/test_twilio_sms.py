"""TwilioSms against the fake Twilio: which failures leave the outcome unknown, Retry-After."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from reminders.adapters.providers.ports import ProviderError
from reminders.adapters.providers.twilio_sms import TwilioSms
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


def test_sends_in_flight_from_many_threads_share_keep_alive_connections(twilio):
    """Twenty sends at a time, twice: no more connections than sends in flight, and the
    second round opens none (each thread takes a connection another thread let go)."""
    twilio.delay = 0.05
    sms = TwilioSms(
        account_sid=twilio.account_sid,
        auth_token=twilio.auth_token,
        from_number="+18055550100",
        api_base_url=twilio.url,
        max_in_flight=20,
    )

    def one(i: int) -> str:
        return sms.send_sms(to=f"+1805555{i:04d}", body="hi", reference=f"rr-{i}").provider_id

    def connections() -> int:  # opened so far by the process's pool for the fake
        return int(sms.pools.for_url(twilio.url).connection_from_url(twilio.url).num_connections)

    with ThreadPoolExecutor(20) as threads:
        assert all(threads.map(one, range(20)))
        opened = connections()
        assert all(threads.map(one, range(20, 40)))
    assert len(twilio.messages) == 40
    assert 1 <= opened <= 20
    assert connections() == opened


def test_each_thread_reads_its_own_responses_retry_after(twilio):
    sms = adapter(twilio.url, twilio.account_sid, twilio.auth_token)
    twilio.fail(to="+18055550142", status=429, code=20429, retry_after=7)

    def one(to: str) -> float | None:
        try:
            sms.send_sms(to=to, body="hi", reference="rr-1")
        except ProviderError as exc:
            return exc.retry_after
        return -1.0

    with ThreadPoolExecutor(8) as threads:
        got = list(threads.map(one, ["+18055550142", *[f"+1805555{i:04d}" for i in range(7)]]))
    assert got == [7.0] + [-1.0] * 7
