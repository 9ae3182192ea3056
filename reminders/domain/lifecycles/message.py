"""The life of an outbound message of any kind: states, allowed moves, and Twilio's words.

scheduled -> queued -> sending -> sent -> delivered | undelivered | failed, and
cancelled / skipped from any unsent state. One machine for every kind that goes out: care
texts and emails, resends, caregiver texts, check-in reminders, silence nudges, on-call
pages, re-pages and calls (docs/architecture.md, "One outbound lifecycle"). Each write is a
named `Move` below; a repository's conditional UPDATE takes its starting states from the
Move, so the states a statement accepts are the ones this machine allows, typed once.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from reminders.domain.errors import IllegalTransition


class MessageStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


S = MessageStatus
UNSENT = frozenset({S.SCHEDULED, S.QUEUED})
# Handed to the provider, or maybe (`sending`): never planned again, counts for the SMS cap.
WENT_OUT = frozenset({S.SENDING, S.SENT, S.DELIVERED})
# A staff member may send these again, once each.
RESENDABLE = frozenset({S.FAILED, S.UNDELIVERED})


class Reason(enum.StrEnum):
    """Why a message was not sent, or came back: a value code can match, beside the words
    staff read (status_reason)."""

    ENROLLMENT_CANCELLED = "enrollment_cancelled"
    REPLANNED = "replanned"  # a newer revision of the plan replaced it
    OPTED_OUT = "opted_out"  # STOP, or the carrier's 21610
    NO_CONSENT = "no_consent"
    STALE = "stale"  # its deadline passed
    SMS_LIMIT = "sms_limit"
    QUIET_HOURS = "quiet_hours"  # waiting for the patient's morning
    RETRY = "retry"  # a transient provider error: tried again later
    PROVIDER_REFUSED = "provider_refused"
    TEMPLATE_ERROR = "template_error"
    RESTORED = "restored"  # the patient opted back in


# Each allowed move. `queued -> queued` renews a lost task's lease; `sending -> queued`
# returns a row that never reached the provider (no rate-limit token in time);
# `sending -> scheduled` is a retry before the deadline; `queued -> failed` is a message
# that cannot be written (template error); `cancelled -> scheduled` only undoes an
# opt-out (see RESTORABLE); `queued -> queued` and `sending -> sending` renew a lease.
TRANSITIONS: dict[MessageStatus, frozenset[MessageStatus]] = {
    S.SCHEDULED: frozenset({S.QUEUED, S.CANCELLED, S.SKIPPED}),
    S.QUEUED: frozenset({S.QUEUED, S.SENDING, S.SCHEDULED, S.CANCELLED, S.SKIPPED, S.FAILED}),
    S.SENDING: frozenset(
        {S.SENDING, S.QUEUED, S.SENT, S.DELIVERED, S.UNDELIVERED, S.FAILED, S.SCHEDULED}
    ),
    S.SENT: frozenset({S.DELIVERED, S.UNDELIVERED, S.FAILED}),
    S.DELIVERED: frozenset(),
    S.UNDELIVERED: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELLED: frozenset({S.SCHEDULED}),
    S.SKIPPED: frozenset(),
}
# A cancelled message comes back only when what cancelled it is undone.
RESTORABLE: dict[tuple[MessageStatus, MessageStatus], frozenset[Reason]] = {
    (S.CANCELLED, S.SCHEDULED): frozenset({Reason.OPTED_OUT}),
}


def check_transition(
    current: MessageStatus, new: MessageStatus, *, because_of: Reason | None = None
) -> None:
    """Raise IllegalTransition unless the state machine allows current -> new.

    `because_of` is the reason the message is in `current` (needed for the guarded moves
    in RESTORABLE: only an opted-out text may be scheduled again).
    """
    if new not in TRANSITIONS[current]:
        raise IllegalTransition(f"a message cannot go from {current} to {new}")
    guard = RESTORABLE.get((current, new))
    if guard is not None and because_of not in guard:
        raise IllegalTransition(
            f"a message {current} for {because_of or 'no reason'} cannot go back to {new}"
        )


def check_transitions(
    current: frozenset[MessageStatus] | tuple[MessageStatus, ...],
    new: MessageStatus,
    *,
    because_of: Reason | None = None,
) -> tuple[MessageStatus, ...]:
    """Check every current -> new move; return the from-states as a tuple for a WHERE clause."""
    for status in current:
        check_transition(status, new, because_of=because_of)
    return tuple(sorted(current))


@dataclass(frozen=True)
class Move:
    """One legal move: from any of `frm` to `to`; checked against TRANSITIONS when declared."""

    frm: tuple[MessageStatus, ...]
    to: MessageStatus
    because_of: Reason | None = None  # the reason a guarded move (RESTORABLE) needs

    def __post_init__(self) -> None:
        check_transitions(self.frm, self.to, because_of=self.because_of)

    @property
    def sources(self) -> list[str]:
        """The starting states as stored, for a statement's `status IN (...)`."""
        return [s.value for s in sorted(self.frm)]


CLAIM = Move((S.SCHEDULED, S.QUEUED), S.QUEUED)  # due, or queued with a lapsed lease
HOLD = Move((S.QUEUED,), S.QUEUED)  # a task renews the queue lease of rows it holds
TAKE = Move((S.QUEUED,), S.SENDING)  # right before the provider call
RENEW = Move((S.SENDING,), S.SENDING)  # heartbeat, or "no answer yet: ask before resend"
SENT = Move((S.SENDING,), S.SENT)
RETRY = Move((S.SENDING,), S.SCHEDULED)  # transient failure, or no record at the provider
FAIL = Move((S.SENDING, S.QUEUED), S.FAILED)
DEFER = Move((S.QUEUED,), S.SCHEDULED)  # quiet hours or the SMS cap at send time
GIVE_BACK = Move((S.SENDING,), S.QUEUED)  # never handed over (no rate-limit token)
CANCEL = Move(tuple(sorted(UNSENT)), S.CANCELLED)
SKIP = Move(tuple(sorted(UNSENT)), S.SKIPPED)
RESTORE = Move((S.CANCELLED,), S.SCHEDULED, because_of=Reason.OPTED_OUT)


def not_sent(status: MessageStatus) -> Move:
    """The move that stops an unsent message (CANCEL or SKIP); IllegalTransition otherwise."""
    return Move(tuple(sorted(UNSENT)), status)


def report(new: MessageStatus) -> Move:
    """A provider's delivery report: only ever forward (lower ranks -> `new`)."""
    return Move(lower_ranks(new), new)


# ---- Twilio's delivery words ------------------------------------------------------------

TWILIO_STATUS: dict[str, MessageStatus] = {
    **dict.fromkeys(("queued", "accepted", "scheduled", "sending", "sent"), S.SENT),
    "delivered": S.DELIVERED,
    "read": S.DELIVERED,
    "undelivered": S.UNDELIVERED,
    "failed": S.FAILED,
    "canceled": S.FAILED,
}
# How far along a report is: a status report only ever moves a message forward.
RANK: dict[MessageStatus, int] = {
    S.SENDING: 1,
    S.SENT: 2,
    S.DELIVERED: 3,
    S.UNDELIVERED: 3,
    S.FAILED: 3,
}


def twilio_status(word: str) -> MessageStatus | None:
    """Our status for Twilio's MessageStatus word; None for words that say nothing to us."""
    return TWILIO_STATUS.get(word.strip().lower())


def lower_ranks(new: MessageStatus) -> tuple[MessageStatus, ...]:
    """The statuses a message may move to `new` from: a status never goes backwards."""
    return tuple(s for s, rank in RANK.items() if rank < RANK[new])
