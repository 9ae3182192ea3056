"""The audit chain's key and its checkpoints: the chain's head, signed, in a file outside the database.

The table alone cannot prove it is whole: deleting the newest rows leaves a valid chain.
A checkpoint names the head (id and hash) at a moment, signed with the audit key, in an
append-only file the database user cannot reach (docs/security.md, "(c) Integrity");
`reminders audit verify` finds every checkpointed row still there with the same hash.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from reminders.domain.staff.audit_chain import seal

log = logging.getLogger(__name__)


def audit_key(setting: str, secret_key: str) -> bytes:
    """REMINDERS_AUDIT_KEY, or one derived from REMINDERS_SECRET_KEY (HKDF, its own label)."""
    if setting:
        return setting.encode()
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"reminders-audit", info=b"chain")
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode()))


@dataclass(frozen=True)
class Checkpoint:
    line: int
    id: int
    row_hash: str
    at: datetime
    signature: str

    def signed_by(self, key: bytes) -> bool:
        return seal(key, id=self.id, row_hash=self.row_hash, at=self.at) == self.signature


class AuditSeal:
    """The key the chain is computed with, and where and how often its head is checkpointed."""

    def __init__(self, key: bytes, path: Path | None, every_seconds: float) -> None:
        self.key = key
        self.path = path
        self.every = every_seconds
        self._last = float("-inf")  # monotonic time of this process's last checkpoint

    def after_commit(self, head: tuple[int, str, datetime] | None) -> None:
        """Checkpoint the head just committed, if the interval has passed (never raises)."""
        if head is None or self.path is None or time.monotonic() - self._last < self.every:
            return
        try:
            self.write(*head)
        except OSError:
            log.exception("could not write an audit checkpoint to %s", self.path)

    def write(self, id: int, row_hash: str, at: datetime) -> None:
        """Append one signed line (O_APPEND: processes writing at once do not interleave)."""
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(
            {
                "id": id,
                "row_hash": row_hash,
                "at": at.isoformat(timespec="seconds"),
                "sig": seal(self.key, id=id, row_hash=row_hash, at=at),
            }
        )
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)
        self._last = time.monotonic()

    def checkpoints(self) -> list[Checkpoint]:
        """Every checkpoint in the file, in the order written; a malformed line is one too
        (with an empty signature, so it fails its check and is reported)."""
        if self.path is None or not self.path.exists():
            return []
        found = []
        for n, text in enumerate(self.path.read_text().splitlines(), start=1):
            try:
                data = json.loads(text)
                found.append(
                    Checkpoint(
                        n,
                        int(data["id"]),
                        str(data["row_hash"]),
                        datetime.fromisoformat(data["at"]),
                        str(data["sig"]),
                    )
                )
            except (ValueError, KeyError, TypeError):
                found.append(Checkpoint(n, 0, "", datetime.min, ""))
        return found
