"""The `reminders` command: its group, one-line input errors, `plan` and `db upgrade`.

The other commands live beside it, one group per module (cli_enrollments, cli_staff,
cli_templates, cli_run) and are added here.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import click
from sqlalchemy.exc import OperationalError

from reminders.bootstrap import Container, bootstrap
from reminders.domain.errors import InvalidEnrollment, ReminderError
from reminders.domain.model import Channel
from reminders.entrypoints.cli_run import demo, run
from reminders.entrypoints.cli_templates import templates
from reminders.entrypoints.formatting import format_preview
from reminders.entrypoints.logs import install_phi_filter
from reminders.services.planning import preview_plan

F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(fn: F) -> F:
    """Turn input errors into one line on stderr and exit status 2; never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except InvalidEnrollment as exc:
            click.echo("error: " + "; ".join(exc.lines()), err=True)
            sys.exit(2)
        except ReminderError as exc:
            where = f"{exc.field}: " if exc.field else ""
            click.echo(f"error: {where}{exc.message}", err=True)
            sys.exit(2)
        except OperationalError as exc:
            click.echo(f"error: the database is not reachable or not set up: {exc.orig}", err=True)
            click.echo(
                "hint: check REMINDERS_DATABASE_URL, then run `reminders db upgrade`", err=True
            )
            sys.exit(3)

    return wrapper  # type: ignore[return-value]


class IsoDateTime(click.ParamType):
    name = "datetime"

    def convert(self, value: Any, param: Any, ctx: Any) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return datetime.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(
                f"{value!r} is not a date and time; use 2026-03-07T23:30-08:00"
                " (or without the offset for the patient's local time)",
                param,
                ctx,
            )


def parse_channels(value: str) -> tuple[Channel, ...]:
    try:
        return tuple(
            dict.fromkeys(Channel(c.strip().lower()) for c in value.split(",") if c.strip())
        )
    except ValueError:
        raise click.BadParameter(f"{value!r}: channels are sms, email or sms,email") from None


def container() -> Container:
    return bootstrap()


class OneLineErrors(click.Group):
    """A group whose usage errors (missing option, bad value, unknown command) print one
    line, `error: ...`, and exit with status 2, like every other input error."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except click.UsageError as exc:
            click.echo(f"error: {_usage_line(exc)}", err=True)
            sys.exit(2)
        except click.ClickException as exc:
            click.echo(f"error: {_one_line(exc.format_message())}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(1)
        # Without standalone mode Click returns --help's exit code instead of exiting.
        sys.exit(result if isinstance(result, int) else 0)


def _one_line(message: str) -> str:
    return " ".join(message.split())


def _usage_line(exc: click.UsageError) -> str:
    """`--levels: 'x' is not a valid integer range.`: the option first, as for bad input."""
    if isinstance(exc, click.BadParameter):
        name = None
        if exc.param is not None:
            opts = getattr(exc.param, "opts", None) or []
            name = max(opts, key=len) if opts else exc.param.human_readable_name
        elif isinstance(exc.param_hint, str):
            name = exc.param_hint
        if name:
            if isinstance(exc, click.MissingParameter):
                return f"{name.strip(chr(39))}: is required (see --help)"
            return f"{name.strip(chr(39))}: {_one_line(exc.message)}"
    return _one_line(exc.format_message())


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
    preview = preview_plan(
        procedure,
        performed_at=performed_at,
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
    from reminders.adapters.db import make_engine
    from reminders.adapters.migrate import upgrade
    from reminders.settings import get_settings

    engine = make_engine(get_settings().database_url)
    upgrade(engine)
    click.echo(f"Database is up to date: {engine.url.render_as_string(hide_password=True)}")


main.add_command(templates)
main.add_command(run)
main.add_command(demo)


from reminders.entrypoints.cli_enrollments import (  # noqa: E402
    cancel,
    enroll,
    reschedule,
    restart,
    show,
)
from reminders.entrypoints.cli_staff import import_csv, staff, token  # noqa: E402

main.add_command(enroll)
main.add_command(show)
main.add_command(cancel)
main.add_command(restart)
main.add_command(reschedule)
main.add_command(staff)
main.add_command(token)
main.add_command(import_csv)

from reminders.entrypoints.cli_audit import audit  # noqa: E402
from reminders.entrypoints.cli_simulate import simulate  # noqa: E402

main.add_command(audit)
main.add_command(simulate)
