"""Retry-After is counted once per chunk, from when the provider's answer arrived."""

from __future__ import annotations

import time
from dataclasses import replace

from reminders.adapters.providers.rate_limit import LocalTokenBucket
from reminders.services.delivery.sending import Outcome, send_messages
from support.live import ANA, dispatch, enroll, row


class Recording(LocalTokenBucket):
    """The embedded bucket, noting when each pause was asked for and how long."""

    def __init__(self) -> None:
        super().__init__(per_second=1000.0, burst=1000.0)
        self.pauses: list[tuple[float, float]] = []

    def pause(self, sender: str, seconds: float) -> None:
        self.pauses.append((time.monotonic(), seconds))
        super().pause(sender, seconds)


def test_a_throttled_chunk_pauses_the_sender_once_from_when_the_answer_came(live, engine, twilio):
    phones = [f"+1805555011{n}" for n in range(3)]
    for n, phone in enumerate(phones):
        enroll(live, replace(ANA, external_id=f"EHR-ra-{n}", phone=phone))
    ids = [i for i in dispatch(live) if row(engine, i).channel == "sms"]
    assert len(ids) == 3
    # Two texts are throttled at once (Retry-After 7 s); the third is slow to be accepted,
    # so the chunk's outcomes are recorded 1.5 s after the 429s arrived.
    twilio.fail(to=phones[0], status=429, code=20429, retry_after=7)
    twilio.fail(to=phones[1], status=429, code=20429, retry_after=7)
    twilio.fail(to=phones[2], hang=1.5, accept=True)
    limiter = Recording()
    live.delivery.limiter = limiter
    outcomes = send_messages(ids, uow=live.uow(), delivery=live.delivery, now=live.clock)
    assert sorted(outcomes.values()) == sorted([Outcome.RETRY, Outcome.RETRY, Outcome.SENT])
    throttled_at = max(at for at, status in twilio.log if status == 429)
    assert len(limiter.pauses) == 1, limiter.pauses  # once for the chunk, not once a text
    (asked_at, seconds) = limiter.pauses[0]
    ends = asked_at + seconds
    assert abs(ends - (throttled_at + 7)) < 0.5, ends - throttled_at
    # And the throttled texts go again when the pause ends, not 7 s after the recording.
    for mid, outcome in outcomes.items():
        if outcome is Outcome.RETRY:
            wait = (row(engine, mid).send_at - live.clock()).total_seconds()
            assert 5.0 <= wait <= 6.0, wait
