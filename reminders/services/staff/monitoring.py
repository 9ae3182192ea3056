"""What operators watch: readiness of the database and broker, and numbers for Prometheus."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from reminders.adapters.db.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str


@dataclass(frozen=True)
class MessageNumbers:
    by_status_and_channel: dict[tuple[str, str], int]
    dispatch_lag_seconds: float  # how long the oldest due, unsent message has waited


def database_check(*, uow: UnitOfWork) -> Check:
    """Run a trivial query; a failure says why without leaking the URL's password."""
    try:
        with uow:
            uow.care.ping()
        return Check(True, "reachable")
    except Exception as exc:
        return Check(False, f"{exc.__class__.__name__}: {str(exc).splitlines()[0][:200]}")


def broker_check(*, broker_url: str, var_dir: Path, timeout: float = 2.0) -> Check:
    """Connect to the broker (or, embedded, check its folder is writable)."""
    if not broker_url:
        folder = var_dir / "broker"
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return Check(False, f"embedded broker folder {folder}: {exc.strerror}")
        if not os.access(folder, os.W_OK):
            return Check(False, f"embedded broker folder {folder} is not writable")
        return Check(True, f"embedded (files under {folder})")
    from kombu import Connection

    try:
        with Connection(broker_url, connect_timeout=timeout) as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
        return Check(True, "reachable")
    except Exception as exc:
        return Check(False, f"{exc.__class__.__name__}: {str(exc)[:200]}")


def message_numbers(*, uow: UnitOfWork, now: datetime) -> MessageNumbers:
    """Count messages by status and channel and measure how far dispatch lags behind."""
    with uow:
        counts = uow.care.messages_by_status_and_channel()
        oldest = uow.care.oldest_due(now)
    lag = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
    return MessageNumbers(counts, lag)
