"""The twilio client's HTTP: one urllib3 connection pool per process, no requests layer.

The twilio library's own client goes through requests, whose per-call work (preparing the
request, cookies, hooks, merging environment settings) cost more CPU than the rest of a
send together. This client does what a Twilio call needs and nothing else: basic auth,
form or JSON body, query string, timeouts, no retries, no redirects, and keep-alive
connections shared by every thread of the process. A failure is `Unreachable`, saying
whether the request may have reached Twilio (only a connection never made says surely not).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit
from urllib.request import getproxies

import certifi
import urllib3
from twilio.http import HttpClient
from twilio.http.response import Response
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError
from urllib3.util import parse_url

_log = logging.getLogger("twilio.http_client")


class Unreachable(Exception):
    """No answer from Twilio: `maybe_sent` unless the connection was never made."""

    def __init__(self, kind: str, *, maybe_sent: bool) -> None:
        super().__init__(kind)
        self.kind = kind
        self.maybe_sent = maybe_sent


class Pools:
    """This process's connection pools (a forked process makes its own: sockets stay put)."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = max(10, maxsize)
        self._lock = threading.Lock()
        self._pid = -1
        self._managers: dict[str, urllib3.PoolManager] = {}

    def for_url(self, url: str) -> urllib3.PoolManager:
        scheme = urlsplit(url).scheme
        with self._lock:
            if self._pid != os.getpid():
                self._pid, self._managers = os.getpid(), {}
            manager = self._managers.get(scheme)
            if manager is None:
                manager = _manager(scheme, self.maxsize)
                self._managers[scheme] = manager
            return manager


def _manager(scheme: str, maxsize: int) -> urllib3.PoolManager:
    """A pool manager, through the environment's proxy for this scheme (or ALL_PROXY) as
    requests used it: `host:port` taken as http://, `user:password@` sent as
    Proxy-Authorization."""
    options: dict[str, Any] = {"num_pools": 4, "maxsize": maxsize, "ca_certs": certifi.where()}
    proxies = getproxies() or {}
    proxy = proxies.get(scheme) or proxies.get("all")
    if not proxy:
        return urllib3.PoolManager(**options)
    if "://" not in proxy:
        proxy = f"http://{proxy}"
    auth = parse_url(proxy).auth
    if auth:
        options["proxy_headers"] = urllib3.make_headers(proxy_basic_auth=unquote(auth))
    return urllib3.ProxyManager(proxy, **options)


class PooledHttp(HttpClient):
    """A twilio HttpClient over shared pools; remembers the last response's headers
    (Retry-After), so use one per thread."""

    def __init__(self, pools: Pools, *, timeout: float) -> None:
        super().__init__(_log, False, timeout)
        self.pools = pools
        self.last_headers: Any = None

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        self.last_headers = None
        sent = dict(headers or {})
        if auth:
            sent.update(urllib3.make_headers(basic_auth=f"{auth[0]}:{auth[1]}"))
        if params:
            url = f"{url}?{_encode(params)}"
        body: str | None = None
        if data is not None:
            if sent.get("Content-Type", "").endswith("json"):
                body = json.dumps(data)
            else:
                body = _encode(data)
                sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
        seconds = timeout if timeout is not None else self.timeout
        pool = self.pools.for_url(
            url
        )  # a bad proxy setting fails here, loudly, not as "maybe sent"
        try:
            answer = pool.request(
                method.upper(),
                url,
                body=body,
                headers=sent,
                timeout=urllib3.Timeout(connect=seconds, read=seconds),
                retries=False,
                redirect=allow_redirects,
            )
        except (NewConnectionError, ConnectTimeoutError) as exc:  # no byte left: surely not sent
            raise Unreachable(exc.__class__.__name__, maybe_sent=False) from None
        except (HTTPError, OSError) as exc:
            raise Unreachable(exc.__class__.__name__, maybe_sent=True) from None
        self.last_headers = answer.headers
        return Response(answer.status, answer.data.decode("utf-8", "replace"), answer.headers)


def _encode(values: dict[str, object]) -> str:
    return urlencode({k: v for k, v in values.items() if v is not None}, doseq=True)
