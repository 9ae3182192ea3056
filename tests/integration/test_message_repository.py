"""MessageRepository on SQLite and PostgreSQL: every write is a legal, conditional move."""

from __future__ import annotations

from datetime import timedelta

import pytest
import rows
from rows import NOW, PHONE
from sqlalchemy import Engine, select

from reminders.adapters.db.orm import scheduled_messages as M
from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.domain.errors import IllegalTransition
from reminders.domain.lifecycles.message import MessageStatus, Reason

LATER = NOW + timedelta(hours=2)


def status(uow: UnitOfWork, mid: int) -> tuple[str, str | None]:
    row = uow.conn.execute(select(M.c.status, M.c.reason_code).where(M.c.id == mid)).one()
    return row.status, row.reason_code


def scheduled(uow: UnitOfWork, send_at=LATER) -> int:
    enrollment_id = rows.enrollment(uow.conn, rows.patient(uow.conn))
    return rows.checkin_text(uow.conn, enrollment_id, status="scheduled", sent_at=send_at)


def test_a_message_goes_through_claim_sending_sent(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        mid = scheduled(uow)
        uow.messages.claim([mid], now=NOW, lease_until=LATER)
        assert status(uow, mid) == ("queued", None)
        assert uow.messages.mark_sending(mid, now=NOW, lease_until=LATER, body="hi")
        assert not uow.messages.mark_sending(mid, now=NOW, lease_until=LATER, body="hi")
        assert uow.messages.mark_sent(mid, now=NOW, provider_id="SM1")
        assert not uow.messages.mark_sent(mid, now=NOW, provider_id="SM2")  # only once
        assert uow.messages.record_status(mid, MessageStatus.DELIVERED, now=NOW)
        assert not uow.messages.record_status(mid, MessageStatus.SENT, now=NOW)  # backwards
        assert status(uow, mid) == ("delivered", None)


def test_a_final_message_is_never_moved(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        mid = scheduled(uow)
        assert uow.messages.not_sent(
            mid, now=NOW, status=MessageStatus.SKIPPED, reason=Reason.STALE, detail="stale"
        )
        assert status(uow, mid) == ("skipped", "stale")
        uow.messages.claim([mid], now=NOW, lease_until=LATER)
        assert not uow.messages.defer(
            mid, now=NOW, send_at=LATER, reason=Reason.QUIET_HOURS, detail="x"
        )
        assert status(uow, mid) == ("skipped", "stale")


def test_an_illegal_move_is_refused_before_any_sql(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        mid = scheduled(uow)
        with pytest.raises(IllegalTransition):
            uow.messages.not_sent(
                mid, now=NOW, status=MessageStatus.DELIVERED, reason=Reason.STALE, detail="x"
            )


def test_opting_back_in_restores_only_what_the_opt_out_cancelled(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        opted = scheduled(uow)
        patient_id = uow.conn.execute(select(M.c.enrollment_id).where(M.c.id == opted)).scalar()
        replanned = rows.checkin_text(uow.conn, patient_id, status="scheduled", sent_at=LATER)
        uow.messages.cancel_unsent(patient_id, reason="re-planned", now=NOW, code=Reason.REPLANNED)
        assert status(uow, opted) == ("cancelled", "replanned")
        assert uow.messages.restore_sms_to(PHONE, now=NOW) == 0  # not an opt-out

        other = scheduled(uow)
        assert uow.messages.cancel_sms_to(PHONE, detail="STOP", now=NOW) >= 1
        assert status(uow, other) == ("cancelled", "opted_out")
        assert uow.messages.restore_sms_to(PHONE, now=NOW) == 1
        assert status(uow, other) == ("scheduled", "restored")
        assert status(uow, replanned) == ("cancelled", "replanned")


def test_a_message_is_sent_again_once(engine: Engine) -> None:
    from sqlalchemy.exc import IntegrityError

    with UnitOfWork(engine) as uow:
        mid = scheduled(uow)
        original = uow.message_reads.get(mid)
        assert original is not None
        again = uow.messages.add_resend(original, send_at=LATER, now=NOW)
        found = uow.message_reads.pending_resend(mid)
        assert found is not None and found.id == again and found.kind == "resend"
        with pytest.raises(IntegrityError):
            uow.messages.add_resend(original, send_at=LATER, now=NOW)


def test_only_the_current_attempt_records_its_outcome(engine: Engine) -> None:
    from reminders.adapters.db.messages.message_repository import Fence

    with UnitOfWork(engine) as uow:
        a, b = scheduled(uow), scheduled(uow, send_at=LATER + timedelta(hours=1))
        uow.messages.claim([a, b], now=NOW, lease_until=LATER)
        won = uow.messages.mark_sending_many([(a, "hi"), (b, "yo")], now=NOW, lease_until=LATER)
        assert won == {a: 2, b: 2}  # the rows had one attempt before
        assert uow.messages.mark_sending_many([(a, "hi")], now=NOW, lease_until=LATER) == {}
        # A stale attempt (a worker that lost the row) records nothing.
        assert uow.messages.mark_sent_many([(a, 1, "SMold"), (b, 2, "SMb")], now=NOW) == {b}
        assert not uow.messages.retry(
            a, now=NOW, send_at=LATER, code=None, error="x", error_class="t", fence=Fence(3)
        )
        # Reconciliation may not touch a row whose lease still runs.
        assert not uow.messages.mark_sent(a, now=NOW, provider_id="SMa", fence=Fence(2, True))
        assert uow.messages.heartbeat([(a, 2), (b, 2)], now=NOW, lease_until=LATER) == {a}
        late = LATER + timedelta(seconds=1)
        assert uow.messages.heartbeat([(a, 2)], now=late, lease_until=late) == set()  # lapsed
        assert uow.messages.mark_sent(a, now=late, provider_id="SMa", fence=Fence(2, True))
        assert status(uow, a) == ("sent", None) and status(uow, b) == ("sent", None)


def test_a_call_with_no_answer_waits_in_sending_for_reconciliation(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        mid = scheduled(uow)
        uow.messages.claim([mid], now=NOW, lease_until=LATER)
        attempt = uow.messages.mark_sending(mid, now=NOW, lease_until=LATER, body="hi")
        assert attempt == 2
        assert not uow.messages.outcome_unknown(
            mid, now=NOW, attempt=1, lease_until=NOW, error="timeout"
        )
        assert uow.messages.outcome_unknown(
            mid, now=NOW, attempt=2, lease_until=NOW, error="timeout"
        )
        assert status(uow, mid) == ("sending", None)
        assert uow.message_reads.expired_sending(now=NOW + timedelta(seconds=1), limit=5) == [mid]
