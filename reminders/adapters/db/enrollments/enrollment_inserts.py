"""A new enrollment's rows (patient, enrollment, consents) written in as few statements as can be.

Only repository.py (EnrollmentRepository.add) runs these. The enrollment is inserted with
`ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`: a taken key gives no row (the
caller rolls back, dropping the patient row too) instead of an error. On PostgreSQL the
three inserts are one statement (data-modifying CTEs; the consents go in as arrays); on
SQLite, which has no INSERT inside WITH, three. Both statements are text built from the
tables' own columns, because SQLAlchemy cannot cache its dialect ON CONFLICT insert and
would compile it again on every enrollment.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ARRAY,
    Boolean,
    Connection,
    DateTime,
    Table,
    Text,
    TextClause,
    bindparam,
    insert,
    text,
)

from reminders.adapters.db.orm import consents, enrollments, patients

KEY_TAKEN = " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"  # on SQLite


def _names(table: Table, *skip: str) -> list[str]:
    return [c.name for c in table.columns if c.name not in ("id", *skip)]


def _typed(table: Table, prefix: str, names: list[str]) -> list[Any]:
    return [bindparam(prefix + n, type_=table.c[n].type) for n in names]


_PATIENT = _names(patients)
_ENROLLMENT = _names(enrollments)
_CONSENT = _names(consents, "enrollment_id")
# Each consent column as a PostgreSQL array: its SQL type name and SQLAlchemy type.
_CONSENT_ARRAYS: dict[str, tuple[str, ARRAY[Any]]] = {
    "channel": ("text[]", ARRAY(Text)),
    "given": ("boolean[]", ARRAY(Boolean)),
    "method": ("text[]", ARRAY(Text)),
    "recorded_by": ("text[]", ARRAY(Text)),
    "recorded_at": ("timestamptz[]", ARRAY(DateTime(timezone=True))),
    "more_frequent_sms": ("boolean[]", ARRAY(Boolean)),
}
assert list(_CONSENT_ARRAYS) == _CONSENT, "consents changed: update _CONSENT_ARRAYS"


def _enrollment_only() -> TextClause:
    return text(
        f"INSERT INTO enrollments ({', '.join(_ENROLLMENT)})"
        f" VALUES ({', '.join(':e_' + n for n in _ENROLLMENT)})" + KEY_TAKEN
    ).bindparams(*_typed(enrollments, "e_", _ENROLLMENT))


def _all_three() -> TextClause:
    """WITH p AS (INSERT patient), e AS (INSERT enrollment FROM p ON CONFLICT DO NOTHING),
    c AS (INSERT consents FROM e, unnest(arrays)) SELECT e.id, e.patient_id FROM e."""
    later = [n for n in _ENROLLMENT if n != "patient_id"]
    arrays = ", ".join(f"CAST(:c_{n} AS {t})" for n, (t, _) in _CONSENT_ARRAYS.items())
    sql = (
        f"WITH p AS (INSERT INTO patients ({', '.join(_PATIENT)})"
        f" VALUES ({', '.join(':p_' + n for n in _PATIENT)}) RETURNING id),"
        f" e AS (INSERT INTO enrollments (patient_id, {', '.join(later)})"
        f" SELECT p.id, {', '.join(':e_' + n for n in later)} FROM p"
        " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, patient_id),"
        f" c AS (INSERT INTO consents (enrollment_id, {', '.join(_CONSENT)})"
        f" SELECT e.id, {', '.join('u.' + n for n in _CONSENT)}"
        f" FROM e, unnest({arrays}) AS u({', '.join(_CONSENT)}))"
        " SELECT e.id, e.patient_id FROM e"
    )
    params = [
        *_typed(patients, "p_", _PATIENT),
        *_typed(enrollments, "e_", later),
        *(bindparam("c_" + n, type_=a) for n, (_, a) in _CONSENT_ARRAYS.items()),
    ]
    return text(sql).bindparams(*params)


_ONE_STATEMENT = _all_three()
_NEW_KEY = _enrollment_only()


def insert_enrollment(
    conn: Connection,
    patient: dict[str, Any],
    enrollment: dict[str, Any],
    consent_rows: list[dict[str, Any]],
) -> tuple[int, int] | None:
    """Insert the three; (enrollment id, patient id), or None if the key is taken.

    `enrollment` has every column but `patient_id`; each consent row every column but
    `enrollment_id`.
    """
    if conn.dialect.name == "postgresql":
        params = {"p_" + k: v for k, v in patient.items()}
        params.update({"e_" + k: v for k, v in enrollment.items()})
        params.update({"c_" + n: [r[n] for r in consent_rows] for n in _CONSENT})
        row = conn.execute(_ONE_STATEMENT, params).first()
        return (int(row.id), int(row.patient_id)) if row else None
    key = conn.execute(insert(patients).values(**patient)).inserted_primary_key
    assert key is not None
    patient_id = int(key[0])
    params = {"e_" + k: v for k, v in enrollment.items()} | {"e_patient_id": patient_id}
    enrollment_id = conn.scalar(_NEW_KEY, params)
    if enrollment_id is None:
        return None
    conn.execute(insert(consents), [{**r, "enrollment_id": enrollment_id} for r in consent_rows])
    return int(enrollment_id), patient_id
