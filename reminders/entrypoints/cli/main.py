"""The `reminders` command: its group, one-line input errors, `plan` and `db upgrade`.

The other commands live beside it, one group per module (enrollments, staff, templates,
run, audit, simulate) and are added here; what they share is in common.py.
"""

from __future__ import annotations

from datetime import datetime

import click

from reminders.domain.enrollment.procedure_time import local_moment
from reminders.domain.planning.timing import zone_named
from reminders.entrypoints.cli.audit import audit
from reminders.entrypoints.cli.common import (
    IsoDateTime,
    OneLineErrors,
    container,
    friendly_errors,
    parse_channels,
)
from reminders.entrypoints.cli.enrollments import cancel, enroll, reschedule, restart, show
from reminders.entrypoints.cli.formatting import format_preview
from reminders.entrypoints.cli.hl7 import hl7_group
from reminders.entrypoints.cli.oncall import oncall
from reminders.entrypoints.cli.run import demo, run
from reminders.entrypoints.cli.simulate import simulate
from reminders.entrypoints.cli.staff import import_csv, staff, token
from reminders.entrypoints.cli.templates import templates
from reminders.entrypoints.logs import install_phi_filter
from reminders.services.enrollments.planning import preview_plan


@click.group(
    cls=OneLineErrors,
    context_settings={"help_option_names": ["-h", "--help"]},
)
def main() -> None:
    """Recovery Reminders: follow patients home after a procedure."""
    install_phi_filter()


@main.command()
@click.argument("procedure")
@click.option("--performed-at", type=IsoDateTime(), required=True, help="When the procedure ended.")
@click.option(
    "--timezone", required=True, help="The patient's IANA zone, e.g. America/Los_Angeles."
)
@click.option("--levels", type=click.IntRange(1, 10), default=1, show_default=True)
@click.option("--overnight", is_flag=True, help="The patient stayed overnight.")
@click.option("--language", default="en", show_default=True)
@click.option("--channels", default="sms,email", show_default=True)
@click.option("--first-name", default="Alex", show_default=True, help="Name used in the preview.")
@click.option("--enrolled-at", type=IsoDateTime(), help="Preview a late enrollment.")
@click.option(
    "--caregiver",
    "caregiver_channels",
    help="Also show what a caregiver gets, by these channels (e.g. sms or sms,email).",
)
@click.option("--caregiver-language", help="The caregiver's language; default: the patient's.")
@friendly_errors
def plan(
    procedure: str,
    performed_at: datetime,
    timezone: str,
    levels: int,
    overnight: bool,
    language: str,
    channels: str,
    first_name: str,
    enrolled_at: datetime | None,
    caregiver_channels: str | None,
    caregiver_language: str | None,
) -> None:
    """Print the schedule a patient (and a caregiver) would get, in local time. Touches nothing."""
    c = container()
    # The time read as enroll reads it: a wall time the clocks skipped is refused, not moved.
    when = local_moment(performed_at, zone_named(timezone))
    preview = preview_plan(
        procedure,
        performed_at=when,
        timezone=timezone,
        plans=c.plans,
        renderer=c.renderer,
        policy=c.policy,
        clinic=c.clinic,
        language=language.strip().lower(),
        channels=parse_channels(channels),
        levels=levels,
        overnight=overnight,
        first_name=first_name,
        enrolled_at=enrolled_at,
        caregiver_channels=parse_channels(caregiver_channels) if caregiver_channels else (),
        caregiver_language=(caregiver_language or language).strip().lower(),
    )
    click.echo(format_preview(preview))


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@friendly_errors
def db_upgrade() -> None:
    """Create or migrate the database schema to the latest version."""
    from reminders.adapters.db.engine import make_engine
    from reminders.adapters.db.migrate import upgrade
    from reminders.settings import get_settings

    engine = make_engine(get_settings().database_url)
    upgrade(engine)
    click.echo(f"Database is up to date: {engine.url.render_as_string(hide_password=True)}")


main.add_command(templates)
main.add_command(oncall)
main.add_command(run)
main.add_command(demo)


main.add_command(enroll)
main.add_command(show)
main.add_command(cancel)
main.add_command(restart)
main.add_command(reschedule)
main.add_command(staff)
main.add_command(token)
main.add_command(import_csv)


main.add_command(audit)
main.add_command(simulate)
main.add_command(hl7_group)


if __name__ == "__main__":  # `python -m reminders.entrypoints.cli.main` (reminders run)
    main()
