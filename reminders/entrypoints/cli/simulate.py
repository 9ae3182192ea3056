"""`reminders simulate`: play Twilio locally, a patient's reply or a delivery report, signed."""

from __future__ import annotations

import html
import re
import secrets
import urllib.error
import urllib.parse
import urllib.request

import click
from twilio.request_validator import RequestValidator

from reminders.domain.enrollment.contact import normalize_phone
from reminders.domain.errors import ReminderError
from reminders.entrypoints.cli.run import served_url
from reminders.settings import Settings, get_settings

STATUSES = ("queued", "sent", "delivered", "undelivered", "failed")


@click.group()
def simulate() -> None:
    """Send the running service what Twilio would: signed with TWILIO_AUTH_TOKEN."""


def _post(settings: Settings, path: str, params: dict[str, str], url: str | None) -> str:
    """POST a form signed the way Twilio signs it; return the body of the answer."""
    token = settings.twilio_auth_token
    if not token:
        raise click.ClickException(
            "set TWILIO_AUTH_TOKEN (any value will do locally) for both `reminders run` and"
            " `reminders simulate`: the service checks every webhook's signature with it"
        )
    # Twilio signs the URL it was given, which is REMINDERS_PUBLIC_URL + path (unset: where
    # `reminders run` listens, its --port included).
    public = served_url(settings)
    signature = RequestValidator(token).compute_signature(public + path, params)
    target = (url or public).rstrip("/") + path
    request = urllib.request.Request(
        target,
        data=urllib.parse.urlencode(params).encode(),
        headers={
            "X-Twilio-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as answer:
            return str(answer.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")[:300]
        raise click.ClickException(f"the service refused it ({exc.code}): {detail}") from None
    except urllib.error.URLError as exc:
        raise click.ClickException(
            f"nothing answers at {target} ({exc.reason}); start the service with `reminders run`"
            " or pass --url"
        ) from None


def _account(settings: Settings) -> str:
    return settings.twilio_account_sid or "AC" + "0" * 32


URL_OPTION = click.option(
    "--url", help="Where the service listens (default: REMINDERS_PUBLIC_URL, which is signed)."
)


@simulate.command("reply")
@click.argument("phone")
@click.argument("text")
@URL_OPTION
def reply(phone: str, text: str, url: str | None) -> None:
    """A patient texts TEXT from PHONE: a pain score, STOP, YES or anything."""
    settings = get_settings()
    try:
        sender = normalize_phone(phone)
    except ReminderError as exc:
        raise click.BadParameter(exc.message, param_hint="PHONE") from None
    params = {
        "MessageSid": "SM" + secrets.token_hex(16),
        "AccountSid": _account(settings),
        "From": sender,
        "To": settings.twilio_from_number or "+15005550006",
        "Body": text,
        "NumMedia": "0",
    }
    answer = _post(settings, "/webhooks/twilio/inbound", params, url)
    said = re.search(r"<Message>(.*?)</Message>", answer, re.S)
    if said:
        click.echo(f"The service answered: {html.unescape(said[1])}")
    else:
        click.echo("Received; the service sent no answer by text.")


@simulate.command("status")
@click.argument("sid")
@click.argument("status", type=click.Choice(STATUSES))
@click.option("--error-code", help="Twilio's error code, e.g. 30003 (unreachable), 21610 (STOP).")
@URL_OPTION
def status(sid: str, status: str, error_code: str | None, url: str | None) -> None:
    """Twilio reports message SID (its provider id) as STATUS."""
    settings = get_settings()
    params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": _account(settings)}
    if error_code:
        params["ErrorCode"] = error_code
    _post(settings, "/webhooks/twilio/status", params, url)
    click.echo(f"Reported {sid} as {status}{f' (error {error_code})' if error_code else ''}.")
