"""Membership in a list of values as one SQL text whatever the list's length (hot reads).

On PostgreSQL `col = ANY(:values)` binds one array: the statement's text never changes,
so the driver prepares it once per connection and the server plans it once, instead of
a new `IN (...)` text for each length. SQLite keeps `IN (...)` (its expanding form).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Connection, Integer, String, all_, any_, bindparam


def among(conn: Connection, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """`column IN values`."""
    wanted = list(values)
    if conn.dialect.name == "postgresql":
        return column == any_(_array(column, wanted))
    return column.in_(wanted)


def not_among(conn: Connection, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """`column NOT IN values` (true for every row when there are none)."""
    wanted = list(values)
    if conn.dialect.name == "postgresql":
        return column != all_(_array(column, wanted))
    return column.not_in(wanted)


def _array(column: Any, values: list[Any]) -> Any:
    item = Integer() if isinstance(column.type, Integer) else String()
    return bindparam(None, values, type_=ARRAY(item))
