"""An escalation's life: open (and paged, rung by rung), acknowledged, resolved.

While open, the paging ladder's progress is its rung count (`pages`: 1 once the first page
is queued); acknowledging stops the ladder; resolving closes it. A resolved escalation is
never reopened: a new red flag opens a new one.
"""

from __future__ import annotations

import enum

from reminders.domain.lifecycles.machine import Lifecycle


class EscalationStatus(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


X = EscalationStatus
ESCALATION = Lifecycle(
    "an escalation",
    {
        X.OPEN: frozenset({X.ACKNOWLEDGED, X.RESOLVED}),
        X.ACKNOWLEDGED: frozenset({X.RESOLVED}),
        X.RESOLVED: frozenset(),
    },
)
ACKNOWLEDGE = ESCALATION.step((X.OPEN,), X.ACKNOWLEDGED)
RESOLVE = ESCALATION.step((X.OPEN, X.ACKNOWLEDGED), X.RESOLVED)
