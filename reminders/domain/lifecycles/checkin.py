"""A check-in's life: asked (open), half answered (partial), answered, unanswered, or closed.

"Reminded" is a step inside `open` (reminder_at is stamped once); `no_answer` is the check-in
that expired unanswered and became a staff task; a late answer still lands on it.
"""

from __future__ import annotations

import enum

from reminders.domain.lifecycles.machine import Lifecycle


class CheckInStatus(enum.StrEnum):
    OPEN = "open"  # asked; waiting for the answer (reminded once after 24 h)
    PARTIAL = "partial"  # half a pain-and-warning answer ("7"): the other half may follow
    ANSWERED = "answered"
    NO_ANSWER = "no_answer"  # expired: staff were asked to call the patient
    CLOSED = "closed"  # the enrollment ended or the phone opted out


C = CheckInStatus
CHECKIN = Lifecycle(
    "a check-in",
    {
        C.OPEN: frozenset({C.PARTIAL, C.ANSWERED, C.NO_ANSWER, C.CLOSED}),
        C.PARTIAL: frozenset({C.PARTIAL, C.ANSWERED, C.NO_ANSWER, C.CLOSED}),
        C.NO_ANSWER: frozenset({C.PARTIAL, C.ANSWERED, C.CLOSED}),  # the answer came after all
        C.ANSWERED: frozenset(),
        C.CLOSED: frozenset(),
    },
)
ANSWER = CHECKIN.step((C.OPEN, C.PARTIAL, C.NO_ANSWER), C.ANSWERED)
EXPIRE = CHECKIN.step((C.OPEN, C.PARTIAL), C.NO_ANSWER)
CLOSE = CHECKIN.step((C.OPEN, C.PARTIAL, C.NO_ANSWER), C.CLOSED)
