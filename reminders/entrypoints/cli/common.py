"""What every `reminders` command shares: one-line input errors, date-times, channels, the container."""

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
