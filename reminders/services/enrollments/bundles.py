"""The typed bundles a use case takes, built once by bootstrap: what planning needs.

Delivery (providers, rate limiter, renderer, policy) is services/outgoing.Delivery;
entrypoints pass `c.planning` and `c.delivery` instead of unpacking the container.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from reminders.adapters.care_plans import CarePlanLibrary
from reminders.domain.planning.schedule import SchedulePolicy


@dataclass(frozen=True)
class Planning:
    """What turning a procedure into dated messages needs."""

    plans: CarePlanLibrary
    policy: SchedulePolicy = field(default_factory=SchedulePolicy)
    skew: timedelta = timedelta(minutes=10)  # a procedure time this far ahead is a clock skew
    default_region: str = "US"  # phone numbers without a country code
