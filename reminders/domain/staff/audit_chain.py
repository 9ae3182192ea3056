"""The audit log's hash chain: each row's hash covers the previous row's hash and its own content."""

from __future__ import annotations

import hashlib
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
    return hashlib.sha256(f"{prev_hash}\n{content}".encode()).hexdigest()


@dataclass(frozen=True)
class Break:
    """The first row where the chain does not hold, and why."""

    id: int
    reason: str


def first_break(rows: Iterable[ChainedRow]) -> Break | None:
    """Walk rows in id order; return the first that was changed, removed before or inserted."""
    expected_prev = GENESIS
    for row in rows:
        if row.prev_hash != expected_prev:
            return Break(
                row.id,
                "its link to the previous row does not match (a row was removed or inserted)",
            )
        computed = row_hash(
            prev_hash=row.prev_hash,
            id=row.id,
            at=row.at,
            actor=row.actor,
            action=row.action,
            detail=row.detail,
            enrollment_id=row.enrollment_id,
            client_addr=row.client_addr,
        )
        if computed != row.row_hash:
            return Break(row.id, "its content no longer matches its hash (the row was changed)")
        expected_prev = row.row_hash
    return None
