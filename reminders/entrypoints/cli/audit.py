"""`reminders audit verify|checkpoint`: check the keyed chain and its signed checkpoints."""

from __future__ import annotations

import sys

import click

from reminders.entrypoints.cli.common import container, friendly_errors
from reminders.services import audit as audit_service


@click.group()
def audit() -> None:
    """The audit log (append-only, chained by a keyed hash, checkpointed outside the database)."""


@audit.command("verify")
@friendly_errors
def audit_verify() -> None:
    """Check every row's keyed hash and every signed checkpoint; exit 1 naming the first break."""
    c = container()
    result = audit_service.verify(uow=c.uow(), seal=c.audit_seal)
    if result.broken is not None:
        click.echo(
            f"Audit log BROKEN at row {result.broken.id}: {result.broken.reason}."
            f" Rows from {result.broken.id} on cannot be trusted; restore from a backup to compare.",
            err=True,
        )
        sys.exit(1)
    if result.checkpoint_problem is not None:
        click.echo(
            f"Audit log BROKEN: {result.checkpoint_problem}. Compare with a backup.", err=True
        )
        sys.exit(1)
    click.echo(
        f"Audit log intact: {result.rows} row(s), every keyed hash matches;"
        f" {result.checkpoints} checkpoint(s) in {c.audit_seal.path} all match."
    )
    if result.checkpoints == 0:
        click.echo(
            "No checkpoint yet: deleting the newest rows could not be detected."
            " Run `reminders audit checkpoint` or let the app write them (docs/security.md).",
            err=True,
        )


@audit.command("checkpoint")
@friendly_errors
def audit_checkpoint() -> None:
    """Sign the chain's head now and append it to the checkpoint file."""
    c = container()
    head = audit_service.checkpoint(uow=c.uow(), seal=c.audit_seal)
    if head is None:
        click.echo("The audit log is empty: nothing to checkpoint.")
        return
    click.echo(f"Checkpoint written: row {head[0]} ({head[1][:12]}…) to {c.audit_seal.path}.")
