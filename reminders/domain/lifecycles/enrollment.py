"""An enrollment's life: active, paused (the EHR reported a hospital visit), cancelled, completed.

Every writer of `enrollments.status` makes one of the steps below.
"""

from __future__ import annotations

import enum

from reminders.domain.lifecycles.machine import Lifecycle


class EnrollmentStatus(enum.StrEnum):
    ACTIVE = "active"  # messages go out
    PAUSED = "paused"  # an emergency visit or admission: unsent messages held, staff decide
    CANCELLED = "cancelled"  # staff, a script or the EHR ended it; nothing more is sent
    COMPLETED = "completed"  # the plan ran to its end


E = EnrollmentStatus
ENROLLMENT = Lifecycle(
    "an enrollment",
    {
        E.ACTIVE: frozenset({E.ACTIVE, E.PAUSED, E.CANCELLED, E.COMPLETED}),
        E.PAUSED: frozenset({E.PAUSED, E.ACTIVE, E.CANCELLED}),
        E.CANCELLED: frozenset({E.ACTIVE}),  # restarted by staff: a new revision of the plan
        E.COMPLETED: frozenset({E.ACTIVE}),  # restarted by staff
    },
)
PAUSE = ENROLLMENT.step((E.ACTIVE, E.PAUSED), E.PAUSED)
CANCEL = ENROLLMENT.step((E.ACTIVE, E.PAUSED), E.CANCELLED)
RESTART = ENROLLMENT.step((E.ACTIVE, E.PAUSED, E.CANCELLED, E.COMPLETED), E.ACTIVE)
COMPLETE = ENROLLMENT.step((E.ACTIVE,), E.COMPLETED)
