"""The enrollment, check-in and escalation lifecycles: their legal moves, and only those."""

from __future__ import annotations

import pytest

from reminders.domain.errors import IllegalTransition
from reminders.domain.lifecycles import checkin, enrollment, escalation, message
from reminders.domain.lifecycles.checkin import CHECKIN, CheckInStatus
from reminders.domain.lifecycles.enrollment import ENROLLMENT, EnrollmentStatus
from reminders.domain.lifecycles.escalation import ESCALATION, EscalationStatus

E, C, X = EnrollmentStatus, CheckInStatus, EscalationStatus


@pytest.mark.parametrize(
    ("machine", "frm", "to"),
    [
        (ENROLLMENT, E.CANCELLED, E.PAUSED),  # a cancelled enrollment is not paused
        (ENROLLMENT, E.COMPLETED, E.CANCELLED),
        (ENROLLMENT, E.CANCELLED, E.CANCELLED),  # cancelling twice changes nothing
        (CHECKIN, C.ANSWERED, C.OPEN),  # an answer is never taken back
        (CHECKIN, C.CLOSED, C.ANSWERED),
        (ESCALATION, X.RESOLVED, X.OPEN),  # a new red flag opens a new escalation
        (ESCALATION, X.ACKNOWLEDGED, X.OPEN),
    ],
)
def test_illegal_moves_are_refused(machine, frm, to):
    with pytest.raises(IllegalTransition):
        machine.check(frm, to)
    with pytest.raises(IllegalTransition):
        machine.step((frm,), to)


def test_the_declared_steps_take_their_starting_states_from_the_machine():
    assert enrollment.PAUSE.sources == ["active", "paused"]
    assert enrollment.CANCEL.sources == ["active", "paused"]
    assert enrollment.RESTART.to is E.ACTIVE and "cancelled" in enrollment.RESTART.sources
    assert checkin.ANSWER.sources == ["no_answer", "open", "partial"]  # a late answer lands
    assert checkin.EXPIRE.sources == ["open", "partial"]
    assert escalation.ACKNOWLEDGE.sources == ["open"]
    assert escalation.RESOLVE.sources == ["acknowledged", "open"]


def test_every_state_of_every_machine_has_its_moves_declared():
    for machine, states in ((ENROLLMENT, E), (CHECKIN, C), (ESCALATION, X)):
        assert set(machine.transitions) == set(states)


def test_every_outbound_move_is_legal_and_statements_use_its_sources():
    for move in (message.CLAIM, message.TAKE, message.SENT, message.RETRY, message.CANCEL):
        for status in move.frm:
            message.check_transition(status, move.to, because_of=move.because_of)
    assert message.CLAIM.sources == ["queued", "scheduled"]
    with pytest.raises(IllegalTransition):
        message.Move((message.MessageStatus.SENT,), message.MessageStatus.QUEUED)
