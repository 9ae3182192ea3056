"""The message state machine: every move it allows, every move it refuses, Twilio's words."""

from __future__ import annotations

import itertools

import pytest

from reminders.domain.errors import IllegalTransition
from reminders.domain.lifecycles.message import (
    RESTORABLE,
    TRANSITIONS,
    MessageStatus,
    Reason,
    check_transition,
    check_transitions,
    lower_ranks,
    twilio_status,
)

S = MessageStatus

# Written out by hand from docs/rules.md (rules 2 and 3), independently of the module's table.
ALLOWED = {
    (S.SCHEDULED, S.QUEUED),  # claimed by dispatch
    (S.SCHEDULED, S.CANCELLED),  # enrollment cancelled, re-planned, opted out
    (S.SCHEDULED, S.SKIPPED),  # no consent, stale, no room under the cap
    (S.QUEUED, S.QUEUED),  # a lost task's lease is renewed
    (S.QUEUED, S.SENDING),  # a worker takes it
    (S.QUEUED, S.SCHEDULED),  # deferred: quiet hours, the SMS cap
    (S.QUEUED, S.CANCELLED),
    (S.QUEUED, S.SKIPPED),
    (S.QUEUED, S.FAILED),  # the template cannot be written
    (S.SENDING, S.SENDING),  # a worker still sending renews its lease; or no answer yet
    (S.SENDING, S.QUEUED),  # no rate-limit token: never reached the provider
    (S.SENDING, S.SENT),
    (S.SENDING, S.DELIVERED),  # a status callback overtook our own record
    (S.SENDING, S.UNDELIVERED),
    (S.SENDING, S.FAILED),
    (S.SENDING, S.SCHEDULED),  # transient error: retried before its deadline
    (S.SENT, S.DELIVERED),
    (S.SENT, S.UNDELIVERED),
    (S.SENT, S.FAILED),
    (S.CANCELLED, S.SCHEDULED),  # only when the patient opts back in
}


@pytest.mark.parametrize(("current", "new"), list(itertools.product(S, S)))
def test_every_move_is_allowed_or_refused_as_designed(current, new):
    if (current, new) in ALLOWED:
        check_transition(current, new, because_of=Reason.OPTED_OUT)
        assert new in TRANSITIONS[current]
    else:
        with pytest.raises(IllegalTransition):
            check_transition(current, new, because_of=Reason.OPTED_OUT)


def test_final_states_never_move():
    for status in (S.DELIVERED, S.UNDELIVERED, S.FAILED, S.SKIPPED):
        assert TRANSITIONS[status] == frozenset()


@pytest.mark.parametrize("reason", [r for r in Reason if r is not Reason.OPTED_OUT] + [None])
def test_a_cancelled_message_comes_back_only_after_an_opt_out(reason):
    with pytest.raises(IllegalTransition, match="cannot go back"):
        check_transition(S.CANCELLED, S.SCHEDULED, because_of=reason)
    assert RESTORABLE[(S.CANCELLED, S.SCHEDULED)] == {Reason.OPTED_OUT}


def test_a_set_of_from_states_is_checked_whole():
    assert check_transitions((S.QUEUED, S.SCHEDULED), S.CANCELLED) == (S.QUEUED, S.SCHEDULED)
    with pytest.raises(IllegalTransition, match="from sent to cancelled"):
        check_transitions((S.SCHEDULED, S.SENT), S.CANCELLED)


def test_a_status_report_never_goes_backwards():
    assert twilio_status("delivered") is S.DELIVERED
    assert twilio_status(" READ ") is S.DELIVERED
    assert twilio_status("queued") is twilio_status("accepted") is S.SENT
    assert twilio_status("canceled") is S.FAILED
    assert twilio_status("receiving") is None
    assert lower_ranks(S.SENT) == (S.SENDING,)
    assert set(lower_ranks(S.DELIVERED)) == {S.SENDING, S.SENT}
    assert S.UNDELIVERED not in lower_ranks(S.DELIVERED)
    for new in (S.SENT, S.DELIVERED, S.UNDELIVERED, S.FAILED):
        check_transitions(lower_ranks(new), new)  # every forward report is a legal move
