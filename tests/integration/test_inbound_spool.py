"""No reply lost: texts that arrive while the database is unreachable are kept in the spool,
answered 200, and handled once, in order, when it is back (docs/reliability.md)."""

from __future__ import annotations

import json

import test_webhooks as shared
from fastapi.testclient import TestClient
from sqlalchemy import select
from test_webhooks import ONCALL_PHONE, PUBLIC, enroll, text_in

from reminders.adapters.db.engine import make_engine
from reminders.adapters.db.orm import inbound_messages
from reminders.adapters.inbound_spool import InboundSpool
from reminders.bootstrap import Container, bootstrap
from reminders.entrypoints.web.api.webhooks import drain_spool
from reminders.entrypoints.web.app import create_app

twilio, smtp, live, web = shared.twilio, shared.smtp, shared.live, shared.web  # fixtures

# Nothing listens on port 1: every connection is refused at once, as with a stopped server.
DEAD_DATABASE = "postgresql+psycopg://reminders@127.0.0.1:1/gone?connect_timeout=2"


def down(live: Container) -> tuple[Container, TestClient]:
    """The same web app and settings (same spool), with its database unreachable."""
    dead = bootstrap(settings=live.settings, engine=make_engine(DEAD_DATABASE), clock=live.clock)
    dead.send_task = live.send_task
    return dead, TestClient(create_app(dead), base_url="https://testserver")


def stored(engine):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(inbound_messages).order_by(inbound_messages.c.id)).all()


def test_replies_during_an_outage_are_kept_and_handled_once_in_order_after(live, engine, twilio):
    enroll(live)
    dead, dead_web = down(live)
    bodies = [f"feeling ok {i}" for i in range(19)]
    bodies.insert(7, "I have chest pain")
    for body in bodies:
        r = text_in(dead_web, dead, body)  # asserts 200 and TwiML
        assert "<Message>" not in r.text  # empty TwiML: Twilio neither retries nor gives up
    spool = InboundSpool(live.settings.var_dir)
    kept = spool.pending()
    assert [k.form["Body"] for k in kept] == bodies
    assert kept[0].url == PUBLIC + "/webhooks/twilio/inbound" and kept[0].signature
    assert stored(engine) == []
    assert not any(m["to"] == ONCALL_PHONE for m in twilio.messages)

    assert drain_spool(dead)  # still down: nothing handled, nothing lost
    assert len(spool.pending()) == 20

    assert drain_spool(live)  # the database is back
    rows = stored(engine)
    assert [r.body for r in rows] == bodies
    assert spool.pending() == []
    pages = [m for m in twilio.messages if m["to"] == ONCALL_PHONE]
    assert len(pages) == 1


def test_a_replayed_spool_file_is_not_handled_twice(live, engine, twilio):
    enroll(live)
    dead, dead_web = down(live)
    text_in(dead_web, dead, "I have chest pain", sid="SMreplayed0000000000000000000001")
    spool = InboundSpool(live.settings.var_dir)
    (kept,) = spool.pending()
    saved = kept.path.read_bytes()
    drain_spool(live)
    # A crash between the commit and the file's removal: the same file comes back.
    kept.path.write_bytes(saved)
    drain_spool(live)
    assert [r.body for r in stored(engine)] == ["I have chest pain"]
    assert len([m for m in twilio.messages if m["to"] == ONCALL_PHONE]) == 1
    assert spool.pending() == []


def test_a_new_text_waits_behind_the_spool_so_a_phone_keeps_its_order(live, engine, web):
    enroll(live)
    dead, dead_web = down(live)
    text_in(dead_web, dead, "first")
    spool = InboundSpool(live.settings.var_dir)
    with spool.draining():  # another process is draining: the new text must queue behind
        text_in(web, live, "second")
    assert [
        json.loads(p.read_text())["form"]["Body"] for p in sorted(spool.root.glob("*.json"))
    ] == [
        "first",
        "second",
    ]
    text_in(web, live, "third")  # drains first, then handles this one
    assert [r.body for r in stored(engine)] == ["first", "second", "third"]
