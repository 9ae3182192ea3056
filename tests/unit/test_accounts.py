"""Account rules as plain data: scopes typed or stored, and when a token stops working."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from reminders.domain.staff.accounts import InvalidAccount, Scope, parse_expiry, parse_scopes

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_an_expiry_is_a_duration_or_a_date():
    assert parse_expiry("90d", now=NOW) == NOW + timedelta(days=90)
    assert parse_expiry(" 12W ", now=NOW) == NOW + timedelta(weeks=12)
    assert parse_expiry("36h", now=NOW) == NOW + timedelta(hours=36)
    assert parse_expiry("2027-01-31", now=NOW) == datetime(2027, 1, 31, tzinfo=UTC)  # a date picker
    la = ZoneInfo("America/Los_Angeles")
    assert parse_expiry("2027-01-31", now=NOW, zone=la) == datetime(2027, 1, 31, tzinfo=la)
    with pytest.raises(InvalidAccount, match="use 90d, 12w, 36h or 2027-01-31") as caught:
        parse_expiry("soon", now=NOW)
    assert caught.value.field == "expires"


def test_scopes_are_read_from_checkboxes_or_stored_text():
    assert parse_scopes("enroll read") == {Scope.ENROLL, Scope.READ}
    assert parse_scopes("fhir,metrics") == {Scope.FHIR, Scope.METRICS}
    assert parse_scopes("") == frozenset()
    with pytest.raises(InvalidAccount, match="unknown scope 'admin'"):
        parse_scopes("read admin")
