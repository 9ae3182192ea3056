"""The unit of work (adapters/db/unit_of_work.py): one transaction, rolled back unless committed."""

from __future__ import annotations

import pytest
from rows import NOW, PHONE

from reminders.adapters.db.unit_of_work import UnitOfWork


def opted_out(engine) -> bool:
    with UnitOfWork(engine) as uow:
        return uow.opt_outs.is_opted_out(PHONE)


def test_a_committed_change_is_kept(engine):
    with UnitOfWork(engine) as uow:
        uow.opt_outs.opt_out(PHONE, source="keyword", detail="STOP", now=NOW)
        uow.commit()
    assert opted_out(engine)


def test_without_a_commit_nothing_is_kept(engine):
    with UnitOfWork(engine) as uow:
        uow.opt_outs.opt_out(PHONE, source="keyword", detail="STOP", now=NOW)
    assert not opted_out(engine)


def test_an_error_inside_undoes_everything(engine):
    with pytest.raises(RuntimeError), UnitOfWork(engine) as uow:
        uow.opt_outs.opt_out(PHONE, source="keyword", detail="STOP", now=NOW)
        raise RuntimeError("the audit entry failed")
    assert not opted_out(engine)


def test_every_repository_shares_the_one_transaction(engine):
    with UnitOfWork(engine) as uow:
        uow.opt_outs.opt_out(PHONE, source="keyword", detail="STOP", now=NOW)
        # another repository of the same unit sees the change before commit
        assert uow.messages.conn is uow.opt_outs.conn
        uow.rollback()
    assert not opted_out(engine)
