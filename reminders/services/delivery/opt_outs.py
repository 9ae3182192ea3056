"""A phone opts out of texts (STOP, the carrier's 21610) or back in (START), all at once."""

from __future__ import annotations

from datetime import datetime

from reminders.adapters.db.unit_of_work import UnitOfWork


def opt_out(uow: UnitOfWork, phone: str, *, source: str, detail: str, now: datetime) -> int:
    """Record the opt-out and cancel every unsent text to the phone; return how many."""
    uow.opt_outs.opt_out(phone, source=source, detail=detail, now=now)
    # The phone may be a patient's or a caregiver's: only texts to this phone stop.
    return uow.messages.cancel_sms_to(
        phone, detail=f"the phone opted out of SMS ({source})", now=now
    )


def opt_in(uow: UnitOfWork, phone: str, *, keyword: str, now: datetime) -> int:
    """Record the opt-in and restore the texts the opt-out cancelled that are still ahead."""
    uow.opt_outs.opt_in(phone, keyword=keyword, now=now)
    return uow.messages.restore_sms_to(phone, now=now)
