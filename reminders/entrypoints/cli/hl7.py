"""`reminders hl7 listen`: the MLLP listener the hospital's interface engine sends ADT to."""

from __future__ import annotations

import asyncio

import click

from reminders.entrypoints.cli.common import container
from reminders.entrypoints.hl7.listener import door_of, serve


@click.group("hl7")
def hl7_group() -> None:
    """HL7 v2 over MLLP from the hospital (docs/integration.md)."""


@hl7_group.command("listen")
@click.option("--host", default=None, help="Address to listen on [REMINDERS_HL7_HOST].")
@click.option(
    "--port", default=None, type=click.IntRange(0, 65535), help="Port [REMINDERS_HL7_PORT]."
)
def listen(host: str | None, port: int | None) -> None:
    """Take ADT^A03 (enroll), A08 (update), A11 (cancel) and A13 (pause) until Ctrl-C,
    acknowledging each message (AA, AE or AR) on the connection it came on."""
    c = container()
    host = host or c.settings.hl7_host
    port = c.settings.hl7_port if port is None else port
    if not port:
        raise click.UsageError("--port: give one, or set REMINDERS_HL7_PORT")
    limit = c.settings.hl7_max_message_bytes

    def started(bound: int) -> None:
        click.echo(f"HL7 MLLP listening on {host}:{bound} (messages up to {limit} bytes)")

    try:
        asyncio.run(serve(door_of(c), host=host, port=port, max_bytes=limit, started=started))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        raise click.UsageError(f"--port: cannot listen on {host}:{port}: {exc.strerror}") from None
