"""Twilio SMS through the official client: send with a status callback, look up after a crash."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.request import getproxies

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from reminders.adapters.providers import ProviderError, Sent


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
    ) -> None:
        if not (from_number or messaging_service_sid):
            raise ValueError("set TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
        http = TwilioHttpClient(timeout=timeout, proxy=getproxies() or None)
        if http.session is not None:
            # Proxies are read once, here; requests would re-read the environment on every
            # call otherwise (a measurable share of each send).
            http.session.trust_env = False
        self.client = Client(account_sid, auth_token, http_client=http)
        if api_base_url:
            self.client.api.base_url = api_base_url.rstrip("/")
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.status_callback = status_callback
        self.sender = messaging_service_sid or from_number

    def send_sms(self, *, to: str, body: str, reference: str) -> Sent:
        kwargs: dict[str, str] = {"to": to, "body": body}
        if self.messaging_service_sid:
            kwargs["messaging_service_sid"] = self.messaging_service_sid
        else:
            kwargs["from_"] = self.from_number
        if self.status_callback:
            kwargs["status_callback"] = self.status_callback
        try:
            message = self.client.messages.create(**kwargs)
        except TwilioRestException as exc:
            raise ProviderError(
                f"Twilio {exc.status}: {exc.msg}",
                code=str(exc.code) if exc.code else None,
                http_status=exc.status,
            ) from None
        except requests.RequestException as exc:
            raise ProviderError(f"Twilio not reachable: {exc.__class__.__name__}") from None
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
            raise ProviderError(f"Twilio lookup failed: {exc}") from None
        earliest = since - timedelta(minutes=2)  # clocks differ a little
        return [
            Sent(provider_id=str(m.sid), status=str(m.status))
            for m in recent
            if m.body == body and (m.date_created is None or m.date_created >= earliest)
        ]
