"""No call on a lapsed lease: a worker that stalled after marking its chunk `sending` gives
the rows back instead of calling the provider (docs/reliability.md)."""

from __future__ import annotations

import time
from datetime import timedelta

from reminders.adapters.db.messages.message_repository import MessageRepository
from reminders.services.delivery.sending import Outcome
from support.live import dispatch, enroll, row, send, sms_id


def test_a_worker_stalled_past_half_its_lease_gives_the_chunk_back_uncalled(
    live, engine, twilio, monkeypatch
):
    enroll(live)
    mid = sms_id(dispatch(live), engine)
    live.delivery.send_lease = timedelta(seconds=1)
    stamp = MessageRepository.mark_sending_many

    def frozen_then_back(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(0.6)  # the database froze on the statement that stamps the lease
        return stamp(self, *args, **kwargs)

    monkeypatch.setattr(MessageRepository, "mark_sending_many", frozen_then_back)
    assert send(live, mid) is Outcome.DEFERRED
    assert twilio.messages == []  # no call on a lease a reconciler may already own
    r = row(engine, mid)
    assert r.status == "queued" and r.lease_until <= live.clock()

    monkeypatch.setattr(MessageRepository, "mark_sending_many", stamp)
    live.clock.advance(seconds=1)
    assert dispatch(live) == [mid]  # the next dispatch takes it again
    assert send(live, mid) is Outcome.SENT
    assert len(twilio.messages) == 1
