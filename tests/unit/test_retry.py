"""Error classes and retry timing: backoff with jitter, inside the deadline and awake hours."""

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reminders.domain.outbound.retry import ErrorClass, RetryPolicy, classify
from reminders.domain.planning.timing import QuietHours

LA = ZoneInfo("America/Los_Angeles")


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        (30003, None, ErrorClass.TRANSIENT),
        ("30008", None, ErrorClass.TRANSIENT),
        (None, 429, ErrorClass.TRANSIENT),
        (None, 503, ErrorClass.TRANSIENT),
        (None, None, ErrorClass.TRANSIENT),  # a timeout: no code, no status
        (21211, 400, ErrorClass.PERMANENT),
        (21614, 400, ErrorClass.PERMANENT),
        (30005, None, ErrorClass.PERMANENT),
        (30006, None, ErrorClass.PERMANENT),
        (21610, 400, ErrorClass.OPTED_OUT),
        (None, 400, ErrorClass.PERMANENT),
    ],
)
def test_classify(code, status, expected):
    assert classify(code=code, http_status=status) is expected


def test_backoff_grows_and_is_capped():
    policy = RetryPolicy()
    now = datetime(2026, 5, 4, 19, 0, tzinfo=UTC)  # noon in Los Angeles
    far = now + timedelta(days=2)
    rng = random.Random(1)
    delays = [
        policy.next_attempt(
            attempt=a, now=now, deadline=far, quiet_hours=QuietHours(), zone=LA, rng=rng
        )
        - now
        for a in range(1, 10)
    ]
    assert timedelta(seconds=15) <= delays[0] <= timedelta(seconds=30)
    assert delays[3] > delays[0]
    assert max(delays) <= timedelta(hours=1)


def test_no_retry_past_the_deadline():
    now = datetime(2026, 5, 4, 19, 0, tzinfo=UTC)
    assert (
        RetryPolicy().next_attempt(
            attempt=8,
            now=now,
            deadline=now + timedelta(minutes=5),
            quiet_hours=QuietHours(),
            zone=LA,
        )
        is None
    )


@given(attempt=st.integers(1, 30), minutes=st.integers(0, 7 * 24 * 60), seed=st.integers())
def test_a_retry_never_lands_in_quiet_hours_or_after_the_deadline(attempt, minutes, seed):
    now = datetime(2026, 3, 7, tzinfo=UTC) + timedelta(minutes=minutes)
    deadline = now + timedelta(hours=10)
    when = RetryPolicy().next_attempt(
        attempt=attempt,
        now=now,
        deadline=deadline,
        quiet_hours=QuietHours(),
        zone=LA,
        rng=random.Random(seed),
    )
    if when is not None:
        assert now < when <= deadline
        assert QuietHours().allows(when, LA)
