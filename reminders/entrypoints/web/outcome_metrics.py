"""Outcome figures for Prometheus: the check-in response rate and the time-to-acknowledge histogram.

Over the patients whose procedure was in the last 90 days (all procedures), computed on
scrape by services/staff/outcomes.py, the same figures as /staff/outcomes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from reminders.adapters.db.staff.outcomes_repository import Cohort
from reminders.bootstrap import Container
from reminders.services.staff import outcomes

WINDOW = timedelta(days=90)
ACK_BUCKETS = (60, 300, 900, 1800, 3600, 7200, 14400)  # seconds: 1 min .. 4 h


class OutcomesCollector(Collector):
    def __init__(self, container: Container) -> None:
        self.container = container

    def collect(self) -> Iterator[GaugeMetricFamily | HistogramMetricFamily]:
        c = self.container
        now = c.clock()
        o = outcomes.compute(
            uow=c.uow(),
            cohort=Cohort(start=now - WINDOW, end=now + timedelta(days=1)),
            target=timedelta(minutes=c.settings.ack_minutes),
            now=now,
        )
        yield GaugeMetricFamily(
            "reminders_checkin_response_rate",
            "Share of check-ins answered, patients with a procedure in the last 90 days.",
            value=o.response_rate or 0.0,
        )
        yield GaugeMetricFamily(
            "reminders_red_flags_past_target",
            "Red flags acknowledged late or not yet, patients of the last 90 days.",
            value=o.past_target,
        )
        seconds = sorted(m * 60 for m in o.ack_minutes)
        buckets = [(f"{float(b)}", sum(1 for s in seconds if s <= b)) for b in ACK_BUCKETS]
        buckets.append(("+Inf", len(seconds)))
        yield HistogramMetricFamily(
            "reminders_time_to_acknowledge_seconds",
            "From a red flag to the first staff action, patients of the last 90 days.",
            buckets=buckets,
            sum_value=sum(seconds),
        )
