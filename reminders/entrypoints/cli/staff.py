"""`reminders staff`, `reminders token` and `reminders import`: accounts and bulk intake."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from reminders.domain.staff.accounts import (
    ALL_SCOPES,
    InvalidAccount,
    Role,
    Scope,
    parse_expiry,
    scopes_text,
)
from reminders.entrypoints.cli.common import container, friendly_errors
from reminders.entrypoints.cli.run import served_url
from reminders.services.enrollments import intake
from reminders.services.enrollments.csv_rows import read_csv
from reminders.services.enrollments.intake import RowOutcome
from reminders.services.staff import accounts, api_tokens, second_factor

T = TypeVar("T")


@click.group()
def staff() -> None:
    """Staff accounts for the web pages."""


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@staff.command("create")
@click.argument("username")
@click.option("--full-name", default="", help="Shown in lists; default: the username.")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.STAFF.value,
    show_default=True,
    help="admin may also see the audit log and add accounts.",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@friendly_errors
def staff_create(username: str, full_name: str, role: str, password_stdin: bool) -> None:
    """Create a staff account (asks for the password twice)."""
    c = container()
    user = accounts.create_staff_user(
        uow=c.uow(),
        username=username,
        full_name=full_name,
        role=Role(role),
        password=_password(password_stdin),
        by="cli",
        now=c.clock(),
    )
    click.echo(f"Created {user.role.value} account {user.username}.")
    click.echo(f"Sign in at {served_url(c.settings)}/staff")


def _change(use_case: Callable[..., T], username: str, **changes: Any) -> T:
    """One change to one account, made by "cli" (as the audit log says) at the app's clock."""
    c = container()
    return use_case(uow=c.uow(), username=username, by="cli", now=c.clock(), **changes)


@staff.command("password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@friendly_errors
def staff_password(username: str, password_stdin: bool) -> None:
    """Set a new password for an account (and reactivate and unlock it); its sessions end."""
    _change(accounts.set_password, username, password=_password(password_stdin))
    click.echo(f"Password changed for {username}.")


@staff.command("disable")
@click.argument("username")
@friendly_errors
def staff_disable(username: str) -> None:
    """Disable an account: every session of it ends at once and it cannot sign in."""
    _change(accounts.set_active, username, active=False)
    click.echo(f"Account {username} disabled; its sessions have ended.")


@staff.command("enable")
@click.argument("username")
@friendly_errors
def staff_enable(username: str) -> None:
    """Enable an account again (this also lifts a sign-in lockout)."""
    _change(accounts.set_active, username, active=True)
    click.echo(f"Account {username} enabled.")


@staff.command("role")
@click.argument("username")
@click.argument("role", type=click.Choice([r.value for r in Role]))
@friendly_errors
def staff_role(username: str, role: str) -> None:
    """Change an account's role; its sessions end so the new role applies at the next sign-in."""
    user = _change(accounts.set_role, username, role=Role(role))
    click.echo(f"Account {user.username} is now {user.role.value}; its sessions have ended.")


@staff.command("mfa-reset")
@click.argument("username")
@friendly_errors
def staff_mfa_reset(username: str) -> None:
    """Remove an account's two-step sign-in (a lost phone); it is set up again at next sign-in."""
    _change(second_factor.reset, username)
    click.echo(f"Two-step sign-in removed for {username}; its sessions have ended.")


@staff.command("list")
@friendly_errors
def staff_list() -> None:
    """List staff accounts."""
    for user in accounts.list_users(uow=container().uow()):
        state = "" if user.active else " (disabled)"
        mfa = "2-step" if user.totp_enabled else "-"
        click.echo(f"{user.username:<24} {user.role.value:<6} {mfa:<7} {user.full_name}{state}")


@click.group()
def token() -> None:
    """API tokens for EHRs and scripts (sent as `Authorization: Bearer <token>`)."""


@token.command("create")
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice([s.value for s in Scope]),
    help="What the token may do; repeat for more. Default: all (enroll, read, fhir, metrics).",
)
@click.option(
    "--expires",
    default=None,
    metavar="DURATION",
    help="Stop working after 90d, 12w, 36h or on a date (2027-01-31). Default: never.",
)
@friendly_errors
def token_create(name: str, scopes: tuple[str, ...], expires: str | None) -> None:
    """Create a token; it is shown once and only its hash is kept.

    Give each EHR or script only what it needs: an EHR that enrolls takes
    `--scope enroll` (and `--scope fhir` for FHIR), Prometheus `--scope metrics`.
    """
    c = container()
    now = c.clock()
    chosen = frozenset(Scope(s) for s in scopes) or ALL_SCOPES
    until = expiry(expires, now=now) if expires else None
    created, raw = api_tokens.create_api_token(
        uow=c.uow(), name=name, by="cli", now=now, scopes=chosen, expires_at=until
    )
    ends = f", expires {until:%Y-%m-%d %H:%M} UTC" if until else ""
    click.echo(
        f"Token {created.name} ({scopes_text(chosen)}{ends}); keep it secret, it is not"
        " shown again:",
        err=True,
    )
    click.echo(raw)


def expiry(text: str, *, now: datetime) -> datetime:
    """The --expires value as the moment the token stops working (domain/accounts)."""
    try:
        return parse_expiry(text, now=now)
    except InvalidAccount as exc:
        raise click.BadParameter(exc.message, param_hint="--expires") from None


@token.command("revoke")
@click.argument("name")
@friendly_errors
def token_revoke(name: str) -> None:
    """Revoke a token at once."""
    c = container()
    if api_tokens.revoke_api_token(uow=c.uow(), name=name, by="cli", now=c.clock()):
        click.echo(f"Token {name} revoked.")
    else:
        click.echo(f"Token {name} was already revoked; nothing changed.")


@token.command("list")
@friendly_errors
def token_list() -> None:
    """List tokens (names and first characters only)."""
    for t in api_tokens.list_tokens(uow=container().uow()):
        used = t.last_used_at.strftime("%Y-%m-%d %H:%M") if t.last_used_at else "never used"
        now = datetime.now(UTC)
        state = "revoked" if t.revoked_at else ("active" if t.live(now) else "expired")
        ends = f"until {t.expires_at:%Y-%m-%d}" if t.expires_at else "no expiry"
        click.echo(
            f"{t.name:<24} {t.prefix}...  {state:<8} {used:<16}  {scopes_text(t.scopes):<26} {ends}"
        )


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--by", default="cli", show_default=True, help="Who is importing (for the audit log)."
)
@friendly_errors
def import_csv(file: Path, by: str) -> None:
    """Enroll every row of a CSV file; print a line per row and a summary.

    Bad rows are reported and skipped. Importing the same file again enrolls nobody
    twice. Exit status 1 when any row was rejected.
    """
    c = container()
    rows = read_csv(file.read_bytes())
    run_id = intake.start_import(uow=c.uow(), filename=file.name, rows=rows, by=by, now=c.clock())
    click.echo(f"Import {run_id}: {len(rows)} row(s) from {file}")
    done = 0

    def report(outcome: RowOutcome) -> None:
        nonlocal done
        done += 1
        name = outcome.patient[:60] or "(no name)"
        where = f"[{done}/{len(rows)}] line {outcome.row_number} {name}:"
        if outcome.outcome == "enrolled":
            click.echo(f"{where} enrolled as {outcome.enrollment_id}")
        elif outcome.outcome == "duplicate":
            click.echo(f"{where} already enrolled as {outcome.enrollment_id}; unchanged")
        else:
            field = f"{outcome.field}: " if outcome.field else ""
            click.echo(f"{where} REJECTED {field}{outcome.message}")

    summary = intake.run_import(
        run_id,
        uow=c.uow(),
        planning=c.planning,
        clock=c.clock,
        default_timezone=c.settings.clinic_timezone,
        on_row=report,
    )
    click.echo(
        f"Done: {summary.enrolled} enrolled, {summary.duplicates} already enrolled,"
        f" {summary.rejected} rejected."
    )
    if summary.rejected:
        sys.exit(1)
