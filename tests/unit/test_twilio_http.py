"""The twilio client's HTTP: the proxy from the environment, a pool per process, the body."""

from __future__ import annotations

import urllib3

from reminders.adapters import twilio_http
from reminders.adapters.twilio_http import Pools, _encode


def test_an_environment_proxy_is_used_for_its_scheme(monkeypatch):
    monkeypatch.setenv("https_proxy", "http://proxy.clinic.example:3128")
    monkeypatch.delenv("http_proxy", raising=False)
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    pools = Pools(10)
    https = pools.for_url("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json")
    assert isinstance(https, urllib3.ProxyManager)
    assert https.proxy is not None and https.proxy.host == "proxy.clinic.example"
    plain = pools.for_url("http://127.0.0.1:9/x")
    assert not isinstance(plain, urllib3.ProxyManager)


def test_a_forked_process_gets_its_own_pools(monkeypatch):
    pools = Pools(10)
    first = pools.for_url("http://127.0.0.1:9/x")
    assert pools.for_url("http://127.0.0.1:9/y") is first
    monkeypatch.setattr(twilio_http.os, "getpid", lambda: -42)
    assert pools.for_url("http://127.0.0.1:9/x") is not first


def test_form_values_drop_none_and_repeat_lists():
    assert _encode({"To": "+18055550142", "MediaUrl": ["a", "b"], "Unset": None}) == (
        "To=%2B18055550142&MediaUrl=a&MediaUrl=b"
    )
