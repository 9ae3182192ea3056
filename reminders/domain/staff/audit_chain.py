"""The audit log's hash chain: each row's hash covers the previous row's hash and its own content.

Keyed (HMAC-SHA256) with a key the database does not hold (docs/security.md, "(c)
Integrity"): someone who can write the table cannot recompute the chain after changing
it. Rows written before the key existed carry a plain SHA-256; they are accepted only
as the chain's beginning, never after a keyed row.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

GENESIS = "0" * 64  # the "previous hash" of the first row


@dataclass(frozen=True)
class ChainedRow:
    """One audit row as stored, with the two hashes that link it."""

    id: int
    at: datetime
    actor: str
    action: str
    detail: str
    enrollment_id: int | None
    client_addr: str | None
    prev_hash: str
    row_hash: str


def row_hash(
    *,
    key: bytes | None = None,
    prev_hash: str,
    id: int,
    at: datetime,
    actor: str,
    action: str,
    detail: str,
    enrollment_id: int | None,
    client_addr: str | None,
) -> str:
    """sha256 over the previous hash and a canonical JSON of the row (id included)."""
    content = json.dumps(
        [
            id,
            at.astimezone(UTC).isoformat(timespec="microseconds"),
            actor,
            action,
            detail,
            enrollment_id,
            client_addr,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    message = f"{prev_hash}\n{content}".encode()
    if key is None:  # the rows written before the chain was keyed
        return hashlib.sha256(message).hexdigest()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Break:
    """The first row where the chain does not hold, and why."""

    id: int
    reason: str


def first_break(rows: Iterable[ChainedRow], *, key: bytes) -> Break | None:
    """Walk rows in id order; return the first that was changed, removed before or inserted."""
    expected_prev = GENESIS
    keyed = False
    for row in rows:
        if row.prev_hash != expected_prev:
            return Break(
                row.id,
                "its link to the previous row does not match (a row was removed or inserted)",
            )
        if hmac.compare_digest(_hash_of(row, key), row.row_hash):
            keyed = True
        elif keyed or not hmac.compare_digest(_hash_of(row, None), row.row_hash):
            return Break(
                row.id,
                "its content no longer matches its hash (the row was changed,"
                " or rewritten by someone without the audit key)",
            )
        expected_prev = row.row_hash
    return None


def _hash_of(row: ChainedRow, key: bytes | None) -> str:
    return row_hash(
        key=key,
        prev_hash=row.prev_hash,
        id=row.id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        detail=row.detail,
        enrollment_id=row.enrollment_id,
        client_addr=row.client_addr,
    )


def seal(key: bytes, *, id: int, row_hash: str, at: datetime) -> str:
    """The signature of a checkpoint: the chain's head at a moment, kept outside the database."""
    text = f"{id}\n{row_hash}\n{at.astimezone(UTC).isoformat(timespec='seconds')}"
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
