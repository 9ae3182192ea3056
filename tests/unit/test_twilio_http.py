"""The twilio client's HTTP: the proxy from the environment, a pool per process, the body."""

from __future__ import annotations

import urllib3

from reminders.adapters.providers import twilio_http
from reminders.adapters.providers.twilio_http import Pools, _encode


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


def _clear_proxies(monkeypatch):
    for name in (
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
    ):
        monkeypatch.delenv(name, raising=False)


def test_a_proxy_with_a_password_or_without_a_scheme_or_for_all(monkeypatch):
    _clear_proxies(monkeypatch)
    monkeypatch.setenv("https_proxy", "user:p%40ss@proxy.clinic.example:3128")
    proxied = Pools(10).for_url("https://api.twilio.com/x")
    assert isinstance(proxied, urllib3.ProxyManager)
    assert proxied.proxy is not None and proxied.proxy.scheme == "http"
    expected = urllib3.make_headers(proxy_basic_auth="user:p@ss")["proxy-authorization"]
    assert proxied.proxy_headers["proxy-authorization"] == expected
    _clear_proxies(monkeypatch)
    monkeypatch.setenv("all_proxy", "http://gateway.clinic.example:8080")
    everything = Pools(10).for_url("https://api.twilio.com/x")
    assert isinstance(everything, urllib3.ProxyManager)
    assert everything.proxy is not None and everything.proxy.host == "gateway.clinic.example"


def test_only_a_connection_never_made_is_surely_not_sent(monkeypatch):
    import socket
    import threading

    import pytest

    from reminders.adapters.providers.twilio_http import PooledHttp, Unreachable

    _clear_proxies(monkeypatch)
    http = PooledHttp(Pools(10), timeout=0.3)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens here: refused
    with pytest.raises(Unreachable) as refused:
        http.request("POST", f"http://127.0.0.1:{port}/x", data={"To": "+1"})
    assert refused.value.maybe_sent is False
    silent = socket.socket()  # takes the request, never answers: it may have been sent
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    conns: list[socket.socket] = []
    threading.Thread(target=lambda: conns.append(silent.accept()[0]), daemon=True).start()
    with pytest.raises(Unreachable) as hung:
        http.request("POST", f"http://127.0.0.1:{silent.getsockname()[1]}/x", data={"To": "+1"})
    assert hung.value.maybe_sent is True
    for c in [*conns, silent]:
        c.close()
