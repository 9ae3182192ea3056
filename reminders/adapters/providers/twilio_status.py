"""Ask Twilio for a message's delivery status (the fallback when a status callback is lost)."""

from __future__ import annotations

from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from reminders.adapters.providers.ports import ProviderError, SmsProvider
from reminders.adapters.providers.twilio_http import Unreachable
from reminders.adapters.providers.twilio_sms import TwilioSms


class TwilioStatusLookup:
    def __init__(self, client: Client) -> None:
        self.client = client

    def fetch(self, sid: str) -> tuple[str, str | None]:
        """Return Twilio's status word and error code for a message SID."""
        try:
            message = self.client.messages(sid).fetch()
        except TwilioRestException as exc:
            raise ProviderError(
                f"Twilio {exc.status}: {exc.msg}", code=str(exc.code) if exc.code else None
            ) from None
        except Unreachable as exc:
            raise ProviderError(f"Twilio not reachable: {exc.kind}") from None
        code = str(message.error_code) if message.error_code else None
        return str(message.status or ""), code


def status_lookup(sms: SmsProvider) -> TwilioStatusLookup | None:
    """A lookup when SMS go through Twilio; None for the local outbox (it has no statuses)."""
    return TwilioStatusLookup(sms.client) if isinstance(sms, TwilioSms) else None
