"""The life of a message: its states, the moves allowed between them, and Twilio's words for them.

scheduled -> queued -> sending -> sent -> delivered | undelivered | failed, and
cancelled / skipped from any unsent state (DESIGN.md rule 2). Every change of a
message's status is checked here before the message repository writes it.
"""

from __future__ import annotations

import enum

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
