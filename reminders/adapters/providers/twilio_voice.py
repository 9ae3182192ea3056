"""Twilio voice calls through the official client: the last rung of an unacknowledged alert."""

from __future__ import annotations

from datetime import datetime, timedelta

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from reminders.adapters.providers.ports import ProviderError, Sent
from reminders.adapters.providers.twilio_http import PooledHttp, Pools, Unreachable


class TwilioVoice:
    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str,
        api_base_url: str = "",
        timeout: float = 15.0,
        status_callback: str = "",
    ) -> None:
        if not from_number:
            # A Messaging Service cannot place calls: a call needs a Twilio phone number.
            raise ValueError("set TWILIO_VOICE_FROM_NUMBER or TWILIO_FROM_NUMBER for calls")
        # Calls are rare (an alert's last rung): one client, its own small pool.
        http = PooledHttp(Pools(2), timeout=timeout)
        self.client = Client(account_sid, auth_token, http_client=http)
        if api_base_url:
            self.client.api.base_url = api_base_url.rstrip("/")
        self.from_number = from_number
        # Where Twilio reports how the call ended: answered, no answer, busy, failed.
        self.status_callback = status_callback

    def place_call(self, *, to: str, twiml: str, reference: str) -> Sent:
        try:
            extra = {"status_callback": self.status_callback} if self.status_callback else {}
            call = self.client.calls.create(to=to, from_=self.from_number, twiml=twiml, **extra)
        except TwilioRestException as exc:
            raise ProviderError(
                f"Twilio {exc.status}: {exc.msg}",
                code=str(exc.code) if exc.code else None,
                http_status=exc.status,
            ) from None
        except Unreachable as exc:
            raise ProviderError(f"Twilio not reachable: {exc.kind}") from None
        return Sent(provider_id=str(call.sid), status=str(call.status or "queued"))

    def find_placed(self, *, to: str, reference: str, since: datetime) -> list[Sent]:
        """Calls to `to` placed from our number since then (clocks differ a little)."""
        try:
            calls = self.client.calls.list(to=to, from_=self.from_number, limit=20)
        except (TwilioException, Unreachable) as exc:
            raise ProviderError(f"Twilio lookup failed: {exc}"[:300]) from None
        earliest = since - timedelta(minutes=2)
        return [
            Sent(provider_id=str(c.sid), status=str(c.status))
            for c in calls
            if c.date_created is None or c.date_created >= earliest
        ]
