"""`reminders oncall check`: who a red flag would page over the next days, and the rota's gaps."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click
from pydantic import ValidationError

from reminders.domain.inbound.oncall import coverage, daily_gaps, describe_gaps, rota_refusal
from reminders.domain.planning.timing import zone_named
from reminders.entrypoints.cli.common import IsoDateTime
from reminders.services.replies.oncall import OnCall
from reminders.settings import Settings, get_settings


@click.group()
def oncall() -> None:
    """The on-call rota: who a red flag pages."""


@oncall.command("check")
@click.option("--days", type=click.IntRange(1, 31), default=7, show_default=True)
@click.option("--from", "start", type=IsoDateTime(), help="Start here instead of now.")
def check(days: int, start: datetime | None) -> None:
    """Print who is paged, in the clinic's zone, for the next days; exit 1 if a gap pages no one."""
    try:
        settings = get_settings()
    except ValidationError as exc:
        if "REMINDERS_ONCALL_ROTA" not in str(exc):
            raise
        # The service refuses this rota; show why, with its coverage, rather than a traceback.
        settings = Settings(REMINDERS_ONCALL_PHONE="-")
        settings = settings.model_copy(update={"oncall_phone": ""})
    on_call = OnCall.from_settings(settings)
    zone = zone_named(on_call.zone)
    moment = start or datetime.now(UTC)
    click.echo(f"On call for the next {days} days, clinic time ({on_call.zone}):")
    if not on_call.rota:
        who = on_call.fallback or "NOBODY: set REMINDERS_ONCALL_PHONE or REMINDERS_ONCALL_EMAIL"
        click.echo(f"  no rota (REMINDERS_ONCALL_ROTA): every red flag pages {who}")
        sys.exit(0 if on_call.fallback else 1)
    fallback = f"the fallback {on_call.fallback}" if on_call.fallback else ""
    for line in coverage(on_call.rota, start=moment, zone=zone, days=days, fallback=fallback):
        click.echo(f"  {line}")
    gaps = daily_gaps(on_call.rota)
    refused = rota_refusal(settings.oncall_rota, fallback=bool(on_call.fallback))
    if not gaps:
        click.echo("OK: someone in the rota is on duty at every hour.")
    elif refused is None:
        click.echo(
            f"OK: nobody in the rota {describe_gaps(gaps)} daily; red flags then page"
            f" {fallback} at once; the escalation names who comes on duty next."
        )
    else:
        click.echo(f"REFUSED: {refused}", err=True)
        sys.exit(1)
