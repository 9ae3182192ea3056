"""A private PostgreSQL cluster (initdb + pg_ctl in a temp dir) that a test may stop and start.

The machine's PostgreSQL on 5432 is shared by the whole suite and by other people: a fault
test must never restart it. This one is the test's own, on a free port, torn down after.
initdb refuses to run as root, so under root the cluster belongs to the `postgres` user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from support.processes import free_port


class ClusterUnavailable(RuntimeError):
    """The cluster could not be made or started; the message says why and what to install."""


def postgres_bindir() -> Path:
    """Where initdb and pg_ctl live: REMINDERS_TEST_PG_BIN, else Debian's newest 15+ server."""
    if explicit := os.environ.get("REMINDERS_TEST_PG_BIN"):
        if not Path(explicit, "initdb").exists():
            raise ClusterUnavailable(f"REMINDERS_TEST_PG_BIN={explicit} holds no initdb")
        return Path(explicit)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    for candidate in [*reversed(found), os.path.dirname(shutil.which("pg_ctl") or "")]:
        if candidate and Path(candidate, "initdb").exists() and Path(candidate, "pg_ctl").exists():
            return Path(candidate)
    raise ClusterUnavailable(
        "initdb and pg_ctl not found: install the PostgreSQL server (apt-get install -y "
        "postgresql-15) or set REMINDERS_TEST_PG_BIN to their folder"
    )


class PostgresCluster:
    """initdb'd data folder, stopped and started with pg_ctl; trust auth on 127.0.0.1."""

    def __init__(self) -> None:
        self.bindir = postgres_bindir()
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="reminders-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self._user: str | None = None
        try:
            self._init()
        except BaseException:
            shutil.rmtree(self.root, ignore_errors=True)
            raise

    def _init(self) -> None:
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise ClusterUnavailable(
                    "running as root and there is no `postgres` user to own the cluster "
                    "(initdb refuses root): install postgresql or add an unprivileged user"
                ) from exc
            self._user = "postgres"
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        self.root.chmod(0o755)  # the test (root or not) reads the log and cleans up
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            # Its own port and socket folder. fsync off is safe here: a stop, even an
            # immediate one, kills the server, not the kernel, whose page cache keeps every
            # write. synchronous_commit stays on: off would lose commits in an immediate
            # stop, a loss no real server makes.
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root}'\nfsync = off\n"
            )

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop it: `fast` rolls back open transactions, `immediate` is a crash."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    def destroy(self) -> None:
        subprocess.run(
            self._command("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop"),
            capture_output=True,
        )
        shutil.rmtree(self.root, ignore_errors=True)

    def _command(self, tool: str, *args: str) -> list[str]:
        command = [str(self.bindir / tool), *args]
        return ["runuser", "-u", self._user, "--", *command] if self._user else command

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            self._command(tool, *args), capture_output=True, text=True, cwd=self.root
        )
        if done.returncode != 0:
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise ClusterUnavailable(
                f"{tool} {args[-1] if tool == 'pg_ctl' else ''} failed ({done.returncode}): "
                f"{done.stdout[-1000:]}{done.stderr[-1000:]}{log}"
            )
