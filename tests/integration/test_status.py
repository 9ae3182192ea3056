"""record_status and poll_unsettled, called directly: forward only, unknown SIDs, 21610, polling."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from reminders.adapters.db.orm import scheduled_messages, sms_opt_outs
from reminders.adapters.providers.ports import ProviderError
from reminders.services.delivery.status import StatusReport, poll_unsettled, record_status
from support.live import ANA, dispatch, enroll, row, send, sms_id

AFTER = timedelta(minutes=30)


def sent_text(c, engine) -> tuple[int, str]:
    """Ana's first text, sent through the fake Twilio: (message id, Twilio SID)."""
    enroll(c)
    mid = sms_id(dispatch(c), engine)
    send(c, mid)
    sid = row(engine, mid).provider_id
    assert row(engine, mid).status == "sent" and sid
    return mid, sid


def report(c, sid, word, code=None):
    return record_status(StatusReport(sid, word, code), uow=c.uow(), now=c.clock())


def test_a_status_only_moves_forward(live, engine):
    mid, sid = sent_text(live, engine)
    assert report(live, sid, "queued") == "unchanged"  # Twilio's early word: we are past it
    live.clock.advance(minutes=2)
    assert report(live, sid, "delivered") == "updated"
    delivered_at = live.clock.now
    live.clock.advance(minutes=2)
    for word, code in (("sent", None), ("undelivered", "30003"), ("delivered", None)):
        assert report(live, sid, word, code) == "unchanged", word
    r = row(engine, mid)
    assert (r.status, r.delivered_at, r.error_code) == ("delivered", delivered_at, None)


def test_a_failure_keeps_twilios_code_its_class_and_a_reason_staff_can_read(live, engine):
    mid, sid = sent_text(live, engine)
    assert report(live, sid, "undelivered", " 30003 ") == "updated"
    r = row(engine, mid)
    assert (r.status, r.error_code, r.error_class) == ("undelivered", "30003", "transient")
    assert r.error_message == "Twilio reported undelivered (error 30003)"
    assert r.status_reason == "the carrier reported it undelivered"
    assert r.delivered_at is None


def test_an_unknown_sid_or_an_odd_word_changes_nothing(live, engine):
    mid, sid = sent_text(live, engine)
    assert report(live, "SM" + "9" * 32, "delivered") == "unknown"
    assert report(live, sid, "receiving") == "ignored"
    assert row(engine, mid).status == "sent"


def test_a_21610_failure_opts_the_phone_out_and_stops_its_unsent_texts(live, engine):
    mid, sid = sent_text(live, engine)
    assert report(live, sid, "undelivered", "21610") == "updated"
    assert row(engine, mid).error_class == "opted_out"
    with engine.connect() as conn:
        opt_out = conn.execute(
            select(sms_opt_outs.c.phone, sms_opt_outs.c.active, sms_opt_outs.c.source)
        ).one()
        unsent_texts = conn.execute(
            select(scheduled_messages.c.status).where(
                scheduled_messages.c.channel == "sms",
                scheduled_messages.c.send_at > live.clock.now,
            )
        ).scalars()
        assert set(unsent_texts) == {"cancelled"}
    assert tuple(opt_out) == (ANA.phone, True, "carrier_21610")


class Lookup:
    """Twilio's answers by SID, and every SID asked about."""

    def __init__(self, answers):
        self.answers = answers
        self.asked: list[str] = []

    def fetch(self, sid):
        self.asked.append(sid)
        answer = self.answers[sid]
        if isinstance(answer, Exception):
            raise answer
        return answer


def poll(c, lookup):
    return poll_unsettled(uow=c.uow(), lookup=lookup, now=c.clock, after=AFTER)


def test_polling_asks_about_a_text_only_once_it_has_waited(live, engine):
    mid, sid = sent_text(live, engine)
    lookup = Lookup({sid: ("sent", None)})
    assert poll(live, lookup) == {} and lookup.asked == []  # its callback may still come
    assert poll(live, None) == {}  # the outbox has no statuses to ask for
    live.clock.advance(minutes=31)
    assert poll(live, lookup) == {"unchanged": 1}
    assert row(engine, mid).updated_at == live.clock.now  # touched: asked just now
    assert poll(live, lookup) == {} and lookup.asked == [sid]
    live.clock.advance(minutes=31)
    lookup.answers[sid] = ("delivered", None)
    assert poll(live, lookup) == {"updated": 1}
    assert row(engine, mid).status == "delivered"
    live.clock.advance(minutes=31)
    assert poll(live, lookup) == {}  # settled: never asked again
    assert lookup.asked == [sid, sid]


def test_polling_counts_a_lookup_that_fails_and_asks_again_next_time(live, engine):
    mid, sid = sent_text(live, engine)
    live.clock.advance(minutes=31)
    lookup = Lookup({sid: ProviderError("Twilio not reachable: ConnectTimeout")})
    assert poll(live, lookup) == {"unknown": 1}
    assert row(engine, mid).status == "sent"
    lookup.answers[sid] = ("failed", "30006")
    assert poll(live, lookup) == {"updated": 1}
    r = row(engine, mid)
    assert (r.status, r.error_code, r.error_class) == ("failed", "30006", "permanent")


def test_a_text_too_old_is_no_longer_polled(live, engine):
    mid, sid = sent_text(live, engine)
    live.clock.advance(days=3, minutes=1)
    lookup = Lookup({sid: ("delivered", None)})
    assert poll(live, lookup) == {} and lookup.asked == []
    assert row(engine, mid).status == "sent"
