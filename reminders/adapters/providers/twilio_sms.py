"""Twilio SMS through the official client: send with a status callback, look up after a crash."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from reminders.adapters.providers.ports import ProviderError, Sent
from reminders.adapters.providers.twilio_http import PooledHttp, Pools, Unreachable

logging.getLogger("twilio.http_client").setLevel(logging.WARNING)


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
        self.timeout = timeout
        self._local = threading.local()
        # One pool of keep-alive connections per process, as large as the calls in flight,
        # so a connection a thread let go serves the next call of any thread.
        self.pools = Pools(max_in_flight)
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.status_callback = status_callback
        self.sender = messaging_service_sid or from_number

    @property
    def client(self) -> Client:
        """This thread's client (the last response's headers are the thread's own) over the
        process's shared pools."""
        client: Client | None = getattr(self._local, "client", None)
        if client is None:
            http = PooledHttp(self.pools, timeout=self.timeout)
            client = Client(*self._account, http_client=http)
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
        except Unreachable as exc:
            raise ProviderError(
                f"Twilio not reachable: {exc.kind}", unknown=exc.maybe_sent
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
        except (TwilioException, Unreachable) as exc:  # a page it cannot read, too
            raise ProviderError(f"Twilio lookup failed: {exc.__class__.__name__}") from None
        earliest = since - timedelta(minutes=2)  # clocks differ a little
        return [
            Sent(provider_id=str(m.sid), status=str(m.status))
            for m in recent
            if m.body == body and (m.date_created is None or m.date_created >= earliest)
        ]


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
