"""Asking Twilio for a text's status (when its callback was lost): the word, the code, failures."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest

from reminders.adapters.providers.outbox import Outbox
from reminders.adapters.providers.ports import ProviderError
from reminders.adapters.providers.twilio_status import TwilioStatusLookup, status_lookup
from reminders.domain.outbound.retry import ErrorClass
from support.fake_twilio import FakeTwilio
from support.live import dispatch, enroll, row, send, sms_id


class FetchingTwilio(FakeTwilio):
    """The fake Twilio, which also answers a fetch of one message by its SID."""

    def _list(self, h):  # type: ignore[no-untyped-def]
        found = re.search(r"/Messages/(SM[0-9a-f]+)\.json$", urlparse(h.path).path)
        if found is None:
            return super()._list(h)
        message = next((m for m in self.messages if m["sid"] == found[1]), None)
        if message is None:
            return self._send(
                h, 404, {"code": 20404, "message": "The requested resource was not found"}
            )
        return self._send(h, 200, message)


@pytest.fixture
def twilio():
    fake = FetchingTwilio().start()
    yield fake
    fake.stop()


def sent_sid(c, engine) -> str:
    enroll(c)
    ids = dispatch(c)
    mid = sms_id(ids, engine)
    send(c, mid)
    sid = row(engine, mid).provider_id
    assert sid and sid.startswith("SM")
    return sid


def test_the_lookup_reads_twilios_word_and_error_code(live, engine, twilio):
    lookup = status_lookup(live.delivery.sms)
    assert isinstance(lookup, TwilioStatusLookup)
    sid = sent_sid(live, engine)
    assert lookup.fetch(sid) == ("queued", None)
    (message,) = twilio.messages
    message["status"], message["error_code"] = "undelivered", 30003
    assert lookup.fetch(sid) == ("undelivered", "30003")


def test_an_unknown_sid_is_a_provider_error_with_twilios_code(live):
    lookup = status_lookup(live.delivery.sms)
    assert lookup is not None
    with pytest.raises(ProviderError) as info:
        lookup.fetch("SM" + "9" * 32)
    assert info.value.code == "20404"
    assert info.value.message.startswith("Twilio 404: ")


def test_twilio_out_of_reach_is_a_transient_provider_error(live, twilio):
    lookup = status_lookup(live.delivery.sms)
    assert lookup is not None
    twilio.stop()
    with pytest.raises(ProviderError) as info:
        lookup.fetch("SM" + "1" * 32)
    assert info.value.message.startswith("Twilio not reachable: ")
    assert info.value.error_class is ErrorClass.TRANSIENT


def test_the_local_outbox_has_no_statuses_to_ask_for(container, tmp_path):
    assert status_lookup(container.delivery.sms) is None
    assert status_lookup(Outbox(tmp_path / "outbox")) is None
