"""`reminders run` (web, worker and beat in one command) and `reminders demo`."""

from __future__ import annotations

import ipaddress
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click

from reminders.settings import ROOT, Settings, get_settings


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--concurrency", default=2, show_default=True, type=int, help="Worker processes.")
@click.option(
    "--verbose", is_flag=True, help="Show the web, worker and beat logs (default: warnings only)."
)
def run(host: str, port: int, concurrency: int, verbose: bool) -> None:
    """Run the web app, a worker per queue and beat together until Ctrl-C.

    With no settings this is the embedded default: SQLite and a file-based broker under
    ./var, messages written to ./var/outbox and shown here. No servers, no credentials.
    """
    from reminders.bootstrap import bootstrap

    settings = get_settings()
    if settings.uses_dev_key and not is_loopback(host):
        raise click.UsageError(
            f"--host {host} lets other machines reach the staff pages, and the session key"
            " is still the public development one (anyone could forge an admin login)."
            " Set your own first: export REMINDERS_SECRET_KEY=$(python -c"
            ' "import secrets; print(secrets.token_urlsafe(48))"), or put it in .env'
        )
    bootstrap(settings)  # creates and migrates the embedded database before anyone uses it
    env = {
        **os.environ,
        "REMINDERS_VAR_DIR": str(settings.var_dir.resolve()),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    if "public_url" not in settings.model_fields_set:  # not set: it is where we listen
        env["REMINDERS_PUBLIC_URL"] = f"http://{host}:{port}"
        record_url(settings, env["REMINDERS_PUBLIC_URL"])
    py = sys.executable
    # Quiet by default: one outbox line per message, and only warnings from the background.
    level = "INFO" if verbose else "WARNING"
    quiet = [] if verbose else ["--quiet"]
    commands = {
        "web": [
            py,
            "-m",
            "uvicorn",
            "--factory",
            "reminders.entrypoints.web.app:create_app",
            "--host",
            host,
            "--port",
            str(port),
            "--log-level",
            level.lower(),
            *([] if verbose else ["--no-access-log"]),
        ],
        # One worker per queue: beat's work (dispatch, reconcile, timers) never waits
        # behind slow sends (celery_app.py).
        "control": _worker(py, "control", 1, quiet=quiet, level=level),
        "sends": _worker(py, "sends", concurrency, quiet=quiet, level=level),
        "beat": [py, "-m", "celery", "-A", "worker", *quiet, "beat", "--loglevel", level],
    }
    if settings.hl7_port:  # the hospital's HL7 v2 feed (docs/integration.md)
        commands["hl7"] = [py, "-m", "reminders.entrypoints.cli.main", "hl7", "listen"]
    outbox = settings.var_dir.resolve() / "outbox"
    where = "SQLite + local broker + outbox" if settings.embedded_broker else settings.broker_url
    click.echo(f"Recovery Reminders ({where})")
    click.echo(f"  staff app   http://{host}:{port}/staff")
    click.echo(f"  health      http://{host}:{port}/healthz")
    if settings.hl7_port:
        click.echo(f"  HL7 MLLP    {settings.hl7_host}:{settings.hl7_port}")
    if settings.embedded_broker and not settings.twilio_account_sid:
        click.echo(f"  outbox      {outbox} (texts and emails are written here, not sent)")
    click.echo("  Ctrl-C stops everything.")
    sys.exit(supervise(commands, env=env))


SERVED_URL = "served-url"  # in the var dir: where `reminders run` listens, for the other commands


def record_url(settings: Settings, url: str) -> None:
    """Note where the app listens, so `staff create` and `simulate` name the real port."""
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    (settings.var_dir / SERVED_URL).write_text(url + "\n", encoding="utf-8")


def served_url(settings: Settings) -> str:
    """The app's address: REMINDERS_PUBLIC_URL when set, else where `reminders run` last
    listened (its --port), else the default."""
    if "public_url" in settings.model_fields_set:
        return settings.public_url
    recorded = settings.var_dir / SERVED_URL
    if recorded.is_file():
        return recorded.read_text(encoding="utf-8").strip() or settings.public_url
    return settings.public_url


def is_loopback(host: str) -> bool:
    """True for a host only this machine can reach (127.0.0.1, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface


def _worker(py: str, queue: str, concurrency: int, *, quiet: list[str], level: str) -> list[str]:
    return [
        py,
        "-m",
        "celery",
        "-A",
        "worker",
        *quiet,
        "worker",
        "--loglevel",
        level,
        "-Q",
        queue,
        "-n",
        f"{queue}@%h",
        "--concurrency",
        str(concurrency),
    ]


def _die_with_parent() -> None:
    """On Linux, have the kernel send SIGTERM to the child if `reminders run` itself dies
    (killed, or its terminal closed): no web server or worker is left running alone."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


# A background process that dies (a worker after a broker outage, say) is started again
# after a pause that doubles each time; one that dies this often in a window is broken
# (bad settings), and everything stops so the message is seen.
RESTARTABLE = frozenset({"control", "sends", "beat", "hl7"})
MAX_RESTARTS = 5
RESTART_WINDOW = 120.0  # seconds
FIRST_PAUSE = 1.0  # seconds before the first restart; doubles, at most 30


def supervise(commands: dict[str, list[str]], *, env: dict[str, str]) -> int:
    """Start every process and keep the background ones running until interrupted.

    A worker or beat that exits is started again (the database keeps every message, so
    nothing is lost meanwhile); the web server exiting, or a background process dying
    more than MAX_RESTARTS times in RESTART_WINDOW seconds, stops them all.
    """

    def start(name: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(commands[name], env=env, preexec_fn=_die_with_parent)

    procs = {name: start(name) for name in commands}
    deaths: dict[str, list[float]] = {name: [] for name in commands}
    restart_at: dict[str, float] = {}
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    while not stopping:
        now = time.monotonic()
        for name, proc in procs.items():
            if name in restart_at:
                if now >= restart_at[name]:
                    del restart_at[name]
                    procs[name] = start(name)
                continue
            if proc.poll() is None:
                continue
            recent = [t for t in deaths[name] if now - t < RESTART_WINDOW] + [now]
            deaths[name] = recent
            if name not in RESTARTABLE or len(recent) > MAX_RESTARTS:
                why = (
                    ""
                    if name not in RESTARTABLE
                    else f" ({len(recent)} times in {RESTART_WINDOW:.0f} s)"
                )
                click.echo(
                    f"{name} exited with status {proc.returncode}{why}; stopping the rest",
                    err=True,
                )
                code = proc.returncode or 1
                stopping = True
                break
            pause = min(FIRST_PAUSE * 2 ** (len(recent) - 1), 30.0)
            click.echo(
                f"{name} exited with status {proc.returncode}; starting it again in"
                f" {pause:.0f} s (messages wait in the database meanwhile)",
                err=True,
            )
            restart_at[name] = now + pause
        time.sleep(0.2)
    for proc in procs.values():
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + 15
    for proc in procs.values():
        try:
            proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            proc.kill()
    return code


@click.command()
@click.option("--seconds", default=60.0, show_default=True, help="How long the journey takes.")
@click.option("--language", default="en", show_default=True, type=click.Choice(["en", "es"]))
@click.option("--procedure", default="kyphoplasty", show_default=True)
def demo(seconds: float, language: str, procedure: str) -> None:
    """Play a whole recovery on a compressed clock: every message as it goes out.

    Uses the real enrollment, dispatch and sending code on a throwaway database under
    ./var/demo, with a clock that jumps to each next due message.
    """
    from reminders.entrypoints.cli.demo import play

    play(
        Path(get_settings().var_dir) / "demo",
        seconds=seconds,
        language=language,
        procedure=procedure,
    )
