"""A durable local spool of inbound webhooks the database could not take, one fsync'd file a request."""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SPOOL_DIR = "inbound-spool"


@dataclass(frozen=True)
class Spooled:
    """One kept request: the signed form as Twilio sent it, the URL and signature it was
    checked against, and when it arrived (the process clock; only for the order of files)."""

    path: Path
    form: dict[str, str]
    url: str
    signature: str
    received_ns: int


class InboundSpool:
    """Files under REMINDERS_VAR_DIR/inbound-spool/, named by arrival time so that a listing is
    the order the requests came in. A file is written to a temporary name, fsync'd, renamed and
    the directory fsync'd, so a file that exists is whole and survives a power cut."""

    def __init__(self, var_dir: Path) -> None:
        self.root = Path(var_dir) / SPOOL_DIR

    def _ensure(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    def put(self, form: dict[str, str], *, url: str, signature: str) -> Path:
        self._ensure()
        received = time.time_ns()
        name = f"{received:020d}-{os.getpid()}-{time.monotonic_ns()}.json"
        body = json.dumps(
            {"form": form, "url": url, "signature": signature, "received_ns": received}
        ).encode()
        tmp = self.root / f".{name}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, body)
            os.fsync(fd)
        finally:
            os.close(fd)
        final = self.root / name
        os.rename(tmp, final)
        self._sync_dir()
        return final

    def _sync_dir(self) -> None:
        fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def pending(self) -> list[Spooled]:
        """Every kept request, oldest first."""
        if not self.root.is_dir():
            return []
        names = sorted(n for n in os.listdir(self.root) if n.endswith(".json") and n[0] != ".")
        out = []
        for name in names:
            path = self.root / name
            try:
                data = json.loads(path.read_text())
            except FileNotFoundError:  # another drainer took it meanwhile
                continue
            out.append(
                Spooled(
                    path=path,
                    form={str(k): str(v) for k, v in data["form"].items()},
                    url=str(data["url"]),
                    signature=str(data["signature"]),
                    received_ns=int(data["received_ns"]),
                )
            )
        return out

    def has_pending(self) -> bool:
        if not self.root.is_dir():
            return False
        return any(n.endswith(".json") and n[0] != "." for n in os.listdir(self.root))

    def done(self, item: Spooled) -> None:
        """Forget a request once the database holds it (its MessageSid makes a replay harmless)."""
        item.path.unlink(missing_ok=True)
        self._sync_dir()

    @contextmanager
    def draining(self) -> Iterator[bool]:
        """An exclusive, non-blocking lock across processes: yields False when another process
        is already draining, so requests are handled once and in order."""
        self._ensure()
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
