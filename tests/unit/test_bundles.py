"""Planning, the bundle enrolling and re-planning take: its defaults are the clinic's rules."""

from dataclasses import FrozenInstanceError
from datetime import time, timedelta
from pathlib import Path

import pytest

from reminders.adapters.care_plans import CarePlanLibrary
from reminders.domain.planning.schedule import SchedulePolicy
from reminders.services.enrollments.bundles import Planning

ROOT = Path(__file__).resolve().parents[2]
PLANS = CarePlanLibrary(ROOT / "config" / "care_plans")


def test_the_defaults_are_us_numbers_ten_minutes_of_skew_and_the_default_policy():
    planning = Planning(plans=PLANS)
    assert planning.plans is PLANS
    assert planning.default_region == "US"
    assert planning.skew == timedelta(minutes=10)
    assert planning.policy == SchedulePolicy()
    # The default policy: texts and emails 08:00-21:00 local, 1 text a day and 3 a week.
    assert (planning.policy.quiet_hours.start, planning.policy.quiet_hours.end) == (
        time(8, 0),
        time(21, 0),
    )
    assert (planning.policy.sms_cap.per_day, planning.policy.sms_cap.per_week) == (1, 3)


def test_each_bundle_has_its_own_policy_object():
    # A default_factory, not one shared instance a caller could swap for everybody.
    assert Planning(plans=PLANS).policy is not Planning(plans=PLANS).policy


def test_a_bundle_cannot_be_changed_once_built():
    planning = Planning(plans=PLANS, skew=timedelta(0), default_region="MX")
    assert (planning.skew, planning.default_region) == (timedelta(0), "MX")
    with pytest.raises(FrozenInstanceError):
        planning.skew = timedelta(hours=1)  # type: ignore[misc]
