"""Silence is a signal: two check-ins in a row without an answer change how we follow up.

The second unanswered check-in gets one gentle text instead of the usual reminder, and
then a staff task "no answer from this patient since day N" instead of the usual one.
A third or later in the same silence sends nothing more to the patient and adds a line
to that task: the patient is not nagged, and staff see one task per silence.
"""

from __future__ import annotations

from dataclasses import dataclass

from reminders.adapters.db.replies.checkin_repository import CheckIn
from reminders.adapters.db.unit_of_work import UnitOfWork
from reminders.domain.planning.timing import zone_named

SILENCE = "silence"  # the escalation kind of the staff task


@dataclass(frozen=True)
class Silence:
    """Unanswered check-ins right before this one, and the recovery day the silence began."""

    before: int  # 1: this is the second in a row; 2 or more: the silence goes on
    since_day: int
    first_checkin_id: int  # the run's first unanswered check-in
    second_checkin_id: int  # the one whose task is the silence's task


def silence_of(uow: UnitOfWork, checkin: CheckIn) -> Silence | None:
    """The silence this check-in continues, or None when the one before was answered."""
    asked = uow.outcomes.checkins_of(checkin.enrollment_id)
    before = [c for c in asked if (c.asked_at, c.id) < (checkin.asked_at, checkin.id)]
    run = []
    for c in reversed(before):
        if c.answer is not None or c.status != "no_answer":
            break
        run.append(c)
    if not run:
        return None
    first = run[-1]
    enrollment = uow.enrollments.get(checkin.enrollment_id)
    zone = zone_named(enrollment.patient.timezone if enrollment else "UTC")
    start = enrollment.procedure.performed_at if enrollment else first.asked_at
    since = (first.asked_at.astimezone(zone).date() - start.astimezone(zone).date()).days
    second = run[-2].id if len(run) >= 2 else checkin.id
    return Silence(len(run), since, first.id, second)
