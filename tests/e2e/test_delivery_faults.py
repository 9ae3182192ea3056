"""Real worker and beat processes against a faulty (fake) Twilio: no duplicate, rate kept.

A provider that takes a text but answers too late, one slower than the send lease, a
429 storm with Retry-After, and PostgreSQL itself stopped for 10 s (fast and immediate
shutdown) mid-send. Each run starts its own Redis, workers per queue and beat on
PostgreSQL, scaled to finish in about a minute; the restart test stops and starts a
private PostgreSQL cluster of its own, never the shared server.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from reminders.adapters.db.engine import make_engine
from reminders.adapters.db.migrate import upgrade
from reminders.adapters.db.orm import metadata, scheduled_messages
from reminders.bootstrap import bootstrap
from reminders.settings import Settings
from support.fake_twilio import FakeTwilio
from support.patients import due_texts_for_many
from support.postgres_server import ClusterUnavailable, PostgresCluster
from support.processes import free_port, kill_group, start_celery, start_redis

M = scheduled_messages


class Run:
    """PostgreSQL rows due now, a private Redis, a control worker, a send worker, beat."""

    def __init__(self, url: str, tmp: Path, twilio: FakeTwilio, texts: int, **env: str) -> None:
        self.engine = make_engine(url)
        names = ", ".join(t.name for t in reversed(metadata.sorted_tables))
        with self.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        self.twilio, self.tmp = twilio, tmp
        port = free_port()
        self.redis = start_redis(port, tmp / "redis.log")
        self.env = {
            "REMINDERS_DATABASE_URL": url,
            "REMINDERS_BROKER_URL": f"redis://127.0.0.1:{port}/0",
            "REMINDERS_VAR_DIR": str(tmp / "var"),
            "TWILIO_ACCOUNT_SID": twilio.account_sid,
            "TWILIO_AUTH_TOKEN": twilio.auth_token,
            "TWILIO_FROM_NUMBER": "+18055550100",
            "TWILIO_API_BASE_URL": twilio.url,
            "REMINDERS_SMS_RATE_PER_SECOND": "1000",
            "REMINDERS_DISPATCH_INTERVAL": "0.5",
            "REMINDERS_RECONCILE_INTERVAL": "1",
            "REMINDERS_QUEUE_LEASE_SECONDS": "8",
            "REMINDERS_SEND_LEASE_SECONDS": "4",
            **env,
        }
        c = bootstrap(Settings(**self.env))
        due_texts_for_many(c.engine, texts, now=datetime.now(UTC), tag="FAULT")
        c.engine.dispose()
        self.total = texts
        self.procs: list = []

    def start(self) -> None:
        beat_args = ("-s", str(self.tmp / "beat-schedule"))
        self.procs.append(start_celery("beat", self.env, self.tmp / "beat.log", *beat_args))
        for queue, n in (("control", 1), ("sends", 2)):
            args = ("-Q", queue, "-n", f"{queue}@%h", "--concurrency", str(n))
            self.procs.append(start_celery("worker", self.env, self.tmp / f"{queue}.log", *args))

    def stop(self) -> None:
        for p in self.procs:
            kill_group(p)
        self.redis.kill()
        self.engine.dispose()

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return dict(conn.execute(select(M.c.status, func.count()).group_by(M.c.status)).all())

    def reasons(self, like: str) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).where(M.c.status_reason.like(like))) or 0)

    def wait_all_sent(self, timeout: float) -> float:
        """Seconds until every text is sent (fails the test after `timeout`)."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.counts() == {"sent": self.total}:
                return time.monotonic() - start
            time.sleep(0.25)
        logs = "\n".join(p.read_text()[-3000:] for p in self.tmp.glob("*.log"))
        pytest.fail(f"not all sent in {timeout} s: {self.counts()}\n{logs}")

    def check_once_each(self) -> None:
        assert self.counts() == {"sent": self.total}
        assert self.twilio.duplicates() == 0, f"{self.twilio.duplicates()} duplicate texts"
        assert len(self.twilio.messages) == self.total
        with self.engine.connect() as conn:
            sids = set(conn.scalars(select(M.c.provider_id)))
        assert sids == {m["sid"] for m in self.twilio.messages}


@pytest.fixture
def run_with(postgres_url: str, tmp_path: Path):
    made: list[Run] = []

    def make(twilio: FakeTwilio, texts: int, **env: str) -> Run:
        made.append(Run(postgres_url, tmp_path, twilio, texts, **env))
        return made[-1]

    yield make
    for r in made:
        r.stop()
        r.twilio.stop()


@pytest.fixture
def private_postgres() -> Iterator[PostgresCluster]:
    """A PostgreSQL cluster of this test's own, with a migrated database, to stop and start.

    In CI (CI=true) a cluster that cannot be made fails the test; elsewhere it is skipped
    with the reason (a machine without the PostgreSQL server binaries).
    """
    cluster = None
    try:
        cluster = PostgresCluster()
        cluster.start()
    except ClusterUnavailable as exc:
        if cluster is not None:
            cluster.destroy()
        message = f"cannot start a private PostgreSQL cluster: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    try:
        admin = make_engine(cluster.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE reminders"))
        admin.dispose()
        engine = make_engine(cluster.url.rsplit("/", 1)[0] + "/reminders")
        upgrade(engine)
        engine.dispose()
        yield cluster
    finally:
        cluster.destroy()


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgres_down_for_10_s_mid_send_loses_nothing_and_sends_nothing_twice(
    private_postgres: PostgresCluster, tmp_path: Path, mode: str
):
    cluster = private_postgres
    url = cluster.url.rsplit("/", 1)[0] + "/reminders"
    twilio = FakeTwilio(delay=0.05).start()
    # 400 texts at 25 a second: sending is well under way when the database goes. The
    # leases and the reconcile interval are the defaults: recovery must not need short ones.
    defaults = {
        name: str(Settings.model_fields[field].default)
        for name, field in (
            ("REMINDERS_QUEUE_LEASE_SECONDS", "queue_lease_seconds"),
            ("REMINDERS_SEND_LEASE_SECONDS", "send_lease_seconds"),
            ("REMINDERS_RECONCILE_INTERVAL", "reconcile_interval"),
        )
    }
    run = Run(url, tmp_path, twilio, 400, REMINDERS_SMS_RATE_PER_SECOND="25", **defaults)
    try:
        run.start()
        deadline = time.monotonic() + 60
        while len(twilio.messages) < 80 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(twilio.messages) >= 80, f"sending never got going: {run.counts()}"
        run.engine.dispose()
        cluster.stop(mode)
        at_stop = len(twilio.messages)
        time.sleep(10)
        during = len(twilio.messages) - at_stop
        cluster.start()
        settled = run.wait_all_sent(120)
        run.check_once_each()
    finally:
        run.stop()
        twilio.stop()
    assert at_stop < run.total, "everything went out before the outage: it tested nothing"
    assert settled <= 60, f"settled {settled:.0f} s after PostgreSQL came back"
    confirmed = run.reasons("confirmed with the provider%")
    print(
        f"\nPostgreSQL {mode} stop for 10 s: {at_stop} of {run.total} sent before, {during} "
        f"taken by Twilio while it was down, {confirmed} confirmed by reconciliation; all "
        f"settled {settled:.1f} s after it came back"
    )


def test_a_provider_that_accepts_but_answers_late_sends_no_duplicate(run_with):
    twilio = FakeTwilio(delay=0.02).start()
    run = run_with(twilio, 120, TWILIO_TIMEOUT_SECONDS="1")
    # Four texts are taken by Twilio, whose answer comes 3 s later: after our timeout.
    twilio.fail(hang=3.0, accept=True, times=4)
    run.start()
    run.wait_all_sent(60)
    run.check_once_each()
    assert run.reasons("confirmed with the provider after no answer%") == 4


def test_a_provider_slower_than_the_send_lease_sends_no_duplicate(run_with):
    # Every answer takes 3 s; the send lease is 2 s: only heartbeats keep the rows ours.
    twilio = FakeTwilio(delay=3.0).start()
    run = run_with(twilio, 100, REMINDERS_SEND_LEASE_SECONDS="2")
    run.start()
    run.wait_all_sent(60)
    run.check_once_each()
    assert run.reasons("confirmed with the provider%") == 0  # reconciliation never stepped in


def test_a_429_storm_honours_retry_after_and_the_sender_rate(run_with):
    rate, retry_after, storm = 20, 2.0, 6.0
    twilio = FakeTwilio(delay=0.02).start()
    run = run_with(twilio, 240, REMINDERS_SMS_RATE_PER_SECOND=str(rate))
    run.start()
    deadline = time.monotonic() + 30
    while len(twilio.messages) < 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    twilio.start_storm(storm, status=429, code=20429, retry_after=retry_after)
    ended = twilio.storm_until
    run.wait_all_sent(60 + storm)
    settled = time.monotonic() - ended
    run.check_once_each()
    arrivals = sorted(twilio.log)
    throttled = [t for t, status in arrivals if status == 429]
    assert throttled, "the storm reached no request"
    # After a 429, nobody asks again before Retry-After (requests already on their way
    # when it came, within 0.3 s, excepted).
    early = [
        t for t429 in throttled for t, _ in arrivals if t429 + 0.3 < t < t429 + retry_after - 0.05
    ]
    assert early == [], f"{len(early)} requests sooner than Retry-After"
    # Never faster than the sender's rate: any 3 s window holds at most rate * 3 + burst.
    times = [t for t, _ in arrivals]
    busiest = max(sum(1 for u in times if t <= u < t + 3.0) for t in times)
    assert busiest <= rate * 3 + rate, f"{busiest} requests in 3 s at {rate}/s"
    assert settled <= 60, f"settled {settled:.0f} s after the storm"
    print(
        f"\n429 storm: {len(throttled)} throttled of {len(arrivals)} requests; busiest 3 s "
        f"{busiest}; all settled {max(settled, 0):.1f} s after it ended"
    )
