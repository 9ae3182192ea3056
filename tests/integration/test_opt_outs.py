"""Opt-out and opt-in (services/delivery/opt_outs.py): STOP cancels every text to a phone, START restores."""

from __future__ import annotations

from sqlalchemy import select

from reminders.adapters.db.orm import scheduled_messages as M
from reminders.services.delivery.opt_outs import opt_in, opt_out
from support.live import ANA, enroll

PHONE = ANA.phone


def statuses(engine, channel):
    with engine.connect() as conn:
        return [
            r.status
            for r in conn.execute(select(M.c.status).where(M.c.channel == channel).order_by(M.c.id))
        ]


def test_stop_cancels_every_unsent_text_and_no_email(live, engine):
    enroll(live)
    texts = len(statuses(engine, "sms"))
    emails = statuses(engine, "email")
    with live.uow() as uow:
        cancelled = opt_out(uow, PHONE, source="keyword", detail="STOP", now=live.clock())
        uow.commit()
    assert cancelled == texts > 0
    assert set(statuses(engine, "sms")) == {"cancelled"}
    assert statuses(engine, "email") == emails  # email is another consent


def test_start_restores_the_texts_still_ahead(live, engine):
    enroll(live)
    with live.uow() as uow:
        cancelled = opt_out(uow, PHONE, source="keyword", detail="STOP", now=live.clock())
        uow.commit()
    live.clock.advance(days=2)
    with live.uow() as uow:
        restored = opt_in(uow, PHONE, keyword="START", now=live.clock())
        uow.commit()
    with engine.connect() as conn:
        back = conn.execute(
            select(M.c.send_at).where(M.c.channel == "sms", M.c.status == "scheduled")
        ).all()
    assert 0 < restored < cancelled, "the texts of the first two days stay cancelled"
    assert len(back) == restored


def test_nothing_is_left_uncommitted_when_the_caller_does_not_commit(live, engine):
    enroll(live)
    with live.uow() as uow:
        opt_out(uow, PHONE, source="keyword", detail="STOP", now=live.clock())
    assert "cancelled" not in statuses(engine, "sms")
    with live.uow() as uow:
        assert not uow.opt_outs.is_opted_out(PHONE)
