"""The write-back outbox: filled from what was sent and answered, delivered once, retried.

`fill` reads new rows behind a cursor per source (sent messages and red flags by
updated_at, answers by id), only rows older than SETTLE so a transaction that committed
late is not stepped over, and queues one resource per business id (a row read twice is
queued once). `deliver` claims due items (a lease, so two workers never send one item at
the same time), POSTs each as a conditional create, and marks it delivered, or records
the error and the next try (doubling from 30 s to an hour). Nothing is lost across a
restart: the item is in the database until the server confirmed it, and the server's
If-None-Exist match makes the retry of an item that did arrive a no-op.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.adapters.providers.fhir_client import FhirClient
from reminders.services.writeback import resources

SETTLE = timedelta(minutes=2)  # a source row is read once it is this old
LEASE = timedelta(minutes=2)  # one delivery attempt at most takes this long
FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(hours=1)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Pass:
    queued: int = 0
    delivered: int = 0
    failed: int = 0


def fill(uow: UnitOfWork, *, now: datetime, limit: int = 500) -> int:
    """Queue what is new since the cursors; returns how many resources were queued."""
    before = now - SETTLE
    queued = 0
    with uow:
        repo = uow.writeback
        since, after = _position(repo.cursor("messages"))
        rows = [
            r for r in repo.sent_messages(since=since, limit=limit) if r["updated_at"] <= before
        ]
        rows = [r for r in rows if (r["updated_at"], r["id"]) > (since, after)]
        answers = repo.answers(after_id=int(repo.cursor("answers") or 0), limit=limit)
        answers = [a for a in answers if a["answered_at"] <= before]
        flags_since, flags_after = _position(repo.cursor("flags"))
        flags = repo.red_flags(since=flags_since, limit=limit)
        flags = [
            f
            for f in flags
            if f["updated_at"] <= before and (f["updated_at"], f["id"]) > (flags_since, flags_after)
        ]
        mrns = repo.patient_identifiers([r["enrollment_id"] for r in rows + answers + flags])
        built: list[tuple[dict[str, Any], resources.Built]] = []
        built += [(r, resources.communication(r, mrns.get(r["enrollment_id"]))) for r in rows]
        built += [
            (a, resources.questionnaire_response(a, mrns.get(a["enrollment_id"]))) for a in answers
        ]
        for f in flags:
            built.append((f, resources.flag(f, mrns.get(f["enrollment_id"]))))
            if f["acknowledged_at"] is not None:
                built.append((f, resources.acknowledgement(f, mrns.get(f["enrollment_id"]))))
        for source, item in built:
            queued += repo.add(
                business_id=item.business_id,
                resource_type=item.resource["resourceType"],
                enrollment_id=source["enrollment_id"],
                patient_id=source["patient_id"],
                resource=json.dumps(item.resource),
                now=now,
            )
        if rows:
            last = rows[-1]
            repo.move_cursor("messages", _mark(last["updated_at"], last["id"]), now=now)
        if answers:
            repo.move_cursor("answers", str(answers[-1]["id"]), now=now)
        if flags:
            last = flags[-1]
            repo.move_cursor("flags", _mark(last["updated_at"], last["id"]), now=now)
        uow.commit()
    return queued


def deliver(
    new_uow: Callable[[], UnitOfWork],
    client: FhirClient,
    *,
    now: Callable[[], datetime],
    limit: int = 100,
    budget: float = 25.0,
) -> Pass:
    """Send what is due, each item claimed first; the result is written at once. Stops
    after `budget` seconds (a slow server): the next pass takes up the rest."""
    delivered = failed = 0
    with new_uow() as uow:
        due = uow.writeback.due(now=now(), limit=limit)
    started = time.monotonic()
    for item in due:
        if time.monotonic() - started > budget:
            break
        with new_uow() as uow:
            claimed = uow.writeback.claim(item, until=now() + LEASE, now=now())
            uow.commit()
        if not claimed:
            continue  # another worker has it
        resource = json.loads(item.resource)
        answer = client.create(resource, identifier=_identifier(resource))
        with new_uow() as uow:
            if answer.stored:
                uow.writeback.delivered(item.id, now=now())
                delivered += 1
            else:
                wait = min(FIRST_RETRY * 2**item.attempts, LAST_RETRY)
                uow.writeback.failed(item.id, error=answer.detail, retry_at=now() + wait, now=now())
                failed += 1
            uow.commit()
    return Pass(delivered=delivered, failed=failed)


def write_back(
    new_uow: Callable[[], UnitOfWork],
    client: FhirClient | None,
    *,
    now: Callable[[], datetime],
) -> Pass:
    """One beat: fill the outbox, then deliver what is due (when an endpoint is set)."""
    queued = fill(new_uow(), now=now())
    if client is None:
        return Pass(queued=queued)
    done = deliver(new_uow, client, now=now)
    return Pass(queued=queued, delivered=done.delivered, failed=done.failed)


def _identifier(resource: dict[str, Any]) -> str:
    found = resource["identifier"]
    first = found[0] if isinstance(found, list) else found
    return f"{first['system']}|{first['value']}"


def _mark(moment: datetime, row_id: int) -> str:
    return f"{moment.astimezone(UTC).isoformat()} {row_id}"


def _position(cursor: str | None) -> tuple[datetime, int]:
    if not cursor:
        return EPOCH, 0
    moment, row_id = cursor.rsplit(" ", 1)
    return datetime.fromisoformat(moment), int(row_id)
