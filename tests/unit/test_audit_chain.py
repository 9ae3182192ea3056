"""The audit hash chain: a changed, removed or inserted row is found and named."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from reminders.domain.staff.audit_chain import GENESIS, ChainedRow, first_break, row_hash

T0 = datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
KEY = b"the audit key"


def chain(n: int) -> list[ChainedRow]:
    rows, prev = [], GENESIS
    for i in range(1, n + 1):
        content = dict(
            id=i,
            at=T0 + timedelta(seconds=i),
            actor="nurse.kim",
            action="read",
            detail=f"page {i}",
            enrollment_id=i,
            client_addr="10.0.0.5",
        )
        digest = row_hash(prev_hash=prev, **content)
        rows.append(ChainedRow(prev_hash=prev, row_hash=digest, **content))
        prev = digest
    return rows


def test_an_intact_chain_has_no_break():
    assert first_break(chain(5), key=KEY) is None
    assert first_break([], key=KEY) is None


def test_each_field_is_covered():
    for field, value in [
        ("actor", "x"),
        ("action", "x"),
        ("detail", "x"),
        ("enrollment_id", 99),
        ("client_addr", None),
        ("at", T0),
        ("id", 30),
    ]:
        rows = chain(4)
        rows[2] = replace(rows[2], **{field: value})
        found = first_break(rows, key=KEY)
        assert found is not None and found.id == rows[2].id and "changed" in found.reason, field


def test_a_removed_row_breaks_the_link_of_the_next():
    rows = chain(4)
    del rows[1]
    found = first_break(rows, key=KEY)
    assert found is not None and found.id == 3 and "removed or inserted" in found.reason


def test_the_same_instant_in_another_zone_hashes_the_same():
    from zoneinfo import ZoneInfo

    base = dict(
        prev_hash=GENESIS,
        id=1,
        actor="a",
        action="b",
        detail="c",
        enrollment_id=None,
        client_addr=None,
    )
    assert row_hash(at=T0, **base) == row_hash(
        at=T0.astimezone(ZoneInfo("America/Los_Angeles")), **base
    )
