"""The opt-out table (adapters/db/enrollments/opt_out_repository.py): who said STOP, and START again."""

from __future__ import annotations

from rows import NOW, PHONE
from sqlalchemy import select

from reminders.adapters.db.orm import sms_opt_outs
from reminders.adapters.db.unit_of_work import UnitOfWork

OTHER = "+18055550199"


def test_a_phone_is_opted_out_until_it_opts_in(engine):
    with UnitOfWork(engine) as uow:
        assert not uow.opt_outs.is_opted_out(PHONE)
        assert not uow.opt_outs.is_opted_out(None)
        uow.opt_outs.opt_out(PHONE, source="keyword", detail="STOP", now=NOW)
        assert uow.opt_outs.is_opted_out(PHONE)
        assert uow.opt_outs.opted_out_among([PHONE, OTHER, ""]) == {PHONE}
        assert uow.opt_outs.opt_in(PHONE, keyword="START", now=NOW)
        assert not uow.opt_outs.is_opted_out(PHONE)
        assert uow.opt_outs.opted_out_among([PHONE]) == set()


def test_opting_in_when_not_opted_out_changes_nothing(engine):
    with UnitOfWork(engine) as uow:
        assert uow.opt_outs.opt_in(PHONE, keyword="START", now=NOW) is False
        assert uow.opt_outs.opted_out_among([]) == set()


def test_a_second_opt_out_keeps_one_row_with_the_latest_reason(engine):
    with UnitOfWork(engine) as uow:
        uow.opt_outs.opt_out(PHONE, source="keyword", detail="STOP", now=NOW)
        uow.opt_outs.opt_in(PHONE, keyword="START", now=NOW)
        uow.opt_outs.opt_out(PHONE, source="carrier", detail="21610", now=NOW)
        uow.commit()
    with engine.connect() as conn:
        rows = conn.execute(select(sms_opt_outs)).all()
    assert [(r.phone, r.active, r.source, r.detail, r.opted_in_at) for r in rows] == [
        (PHONE, True, "carrier", "21610", None)
    ]
