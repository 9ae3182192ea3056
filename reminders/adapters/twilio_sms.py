"""Twilio SMS through the official client: send with a status callback, look up after a crash."""

from __future__ import annotations

import logging
import os
import threading
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.request import getproxies

import requests
from requests.adapters import HTTPAdapter
from requests.exceptions import ChunkedEncodingError
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from reminders.adapters.providers import ProviderError, Sent

# The client logs every request and response at INFO (11 lines a send): a measurable
# share of each send, and nothing an operator reads.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)


class _Http(TwilioHttpClient):
    """Remembers the last response's headers (Retry-After): one client per thread."""

    last_headers: Any = None

    def request(self, *args: Any, **kwargs: Any) -> Response:
        self.last_headers = None
        response = super().request(*args, **kwargs)
        self.last_headers = response.headers
        return response


class TwilioSms:
    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str = "",
        messaging_service_sid: str = "",
        status_callback: str | None = None,
        api_base_url: str = "",
        timeout: float = 15.0,
        max_in_flight: int = 32,
    ) -> None:
        if not (from_number or messaging_service_sid):
            raise ValueError("set TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
        self._account = (account_sid, auth_token)
        self._base_url = api_base_url.rstrip("/")
        self._proxy = getproxies() or None
        self.timeout = timeout
        self._local = threading.local()
        self._max_in_flight = max_in_flight
        self._session: tuple[int, requests.Session] | None = None
        self._session_lock = threading.Lock()
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.status_callback = status_callback
        self.sender = messaging_service_sid or from_number

    @property
    def session(self) -> requests.Session:
        """This process's HTTP session, shared by the threads that keep sends in flight: one
        pool of keep-alive connections, as large as the calls in flight, so a connection a
        thread let go serves the next call of any thread (none is opened per call)."""
        pid = os.getpid()
        with self._session_lock:
            if self._session is None or self._session[0] != pid:  # sockets stay in the parent
                self._session = (pid, self._new_session())
            return self._session[1]

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        # Proxies are read once, here; requests would re-read the environment on every call
        # otherwise (a measurable share of each send).
        session.trust_env = False
        # At least requests' usual 10: a lookup beside a send never finds the pool full.
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=max(10, self._max_in_flight))
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    @property
    def client(self) -> Client:
        """This thread's client (the last response's headers are the thread's own) over the
        process's shared session."""
        client: Client | None = getattr(self._local, "client", None)
        session = self.session
        if client is None or self._local.session is not session:
            http = _Http(pool_connections=False, timeout=self.timeout, proxy=self._proxy)
            http.session = session
            client = Client(*self._account, http_client=http)
            self._local.session = session
            if self._base_url:
                client.api.base_url = self._base_url
            self._local.client = client
        return client

    def send_sms(self, *, to: str, body: str, reference: str) -> Sent:
        kwargs: dict[str, str] = {"to": to, "body": body}
        if self.messaging_service_sid:
            kwargs["messaging_service_sid"] = self.messaging_service_sid
        else:
            kwargs["from_"] = self.from_number
        if self.status_callback:
            kwargs["status_callback"] = self.status_callback
        client = self.client
        try:
            message = client.messages.create(**kwargs)
        except TwilioRestException as exc:
            raise ProviderError(
                f"Twilio {exc.status}: {exc.msg}",
                code=str(exc.code) if exc.code else None,
                http_status=exc.status,
                retry_after=_retry_after(client.http_client),
            ) from None
        except requests.RequestException as exc:
            raise ProviderError(
                f"Twilio not reachable: {exc.__class__.__name__}", unknown=_maybe_sent(exc)
            ) from None
        if message.error_code:
            raise ProviderError(
                message.error_message or "Twilio refused the message", code=str(message.error_code)
            )
        return Sent(provider_id=str(message.sid), status=str(message.status or "queued"))

    def find_sent(self, *, to: str, body: str, reference: str, since: datetime) -> list[Sent]:
        """Find a message we may have sent before a crash: same recipient, body, and time."""
        try:
            recent = self.client.messages.list(to=to, limit=50)
        except (TwilioRestException, requests.RequestException) as exc:
            raise ProviderError(f"Twilio lookup failed: {exc.__class__.__name__}") from None
        earliest = since - timedelta(minutes=2)  # clocks differ a little
        return [
            Sent(provider_id=str(m.sid), status=str(m.status))
            for m in recent
            if m.body == body and (m.date_created is None or m.date_created >= earliest)
        ]


def _maybe_sent(exc: requests.RequestException) -> bool:
    """Did the request possibly reach Twilio? Only a failure to connect says surely not."""
    if isinstance(exc, requests.ConnectTimeout):
        return False
    if isinstance(exc, requests.ConnectionError):
        text = repr(exc.args)
        return not any(
            s in text for s in ("NewConnectionError", "Connection refused", "NameResolution")
        )
    return isinstance(exc, requests.Timeout | requests.ConnectionError | ChunkedEncodingError)


def _retry_after(http: Any) -> float | None:
    """Retry-After in seconds (a number or an HTTP date), if Twilio sent one."""
    headers = getattr(http, "last_headers", None)
    value = headers.get("Retry-After") if headers else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(when.tzinfo)).total_seconds())
