"""`reminders audit verify`: check the audit log's hash chain and name the first broken row."""

from __future__ import annotations

import sys

import click

from reminders.entrypoints.cli.common import container, friendly_errors
from reminders.services import audit as audit_service


@click.group()
def audit() -> None:
    """The audit log (append-only, hash-chained)."""


@audit.command("verify")
@friendly_errors
def audit_verify() -> None:
    """Recompute every row's hash; exit 1 naming the first row changed, removed or inserted."""
    result = audit_service.verify(uow=container().uow())
    if result.broken is None:
        click.echo(f"Audit log intact: {result.rows} row(s), every hash matches.")
        return
    click.echo(
        f"Audit log BROKEN at row {result.broken.id}: {result.broken.reason}."
        f" Rows from {result.broken.id} on cannot be trusted; restore from a backup to compare.",
        err=True,
    )
    sys.exit(1)
