"""Real worker and beat processes on PostgreSQL and Redis: SIGKILL and a Redis restart lose nothing.

Hundreds of texts are due now; a worker is killed mid-batch (or Redis is killed and
restarted empty). Every text must still go out, and duplicates may be at most the sends
that were in flight at the kill, each reconciled with the (fake) Twilio first.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from reminders.adapters.db.engine import make_engine
from reminders.adapters.db.orm import metadata, scheduled_messages
from reminders.bootstrap import bootstrap
from reminders.settings import Settings
from support.fake_twilio import FakeTwilio
from support.patients import due_texts_for_many
from support.processes import free_port, kill_group, start_celery, start_redis

TEXTS = 440
CONCURRENCY = 4


@dataclass
class Stack:
    env: dict[str, str]
    engine: object
    twilio: FakeTwilio
    tmp: Path
    redis_port: int

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:  # type: ignore[attr-defined]
            rows = conn.execute(
                select(scheduled_messages.c.status, func.count())
                .where(scheduled_messages.c.channel == "sms")
                .group_by(scheduled_messages.c.status)
            ).all()
        return dict(rows)

    def wait_until(self, condition, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.2)
        logs = "\n".join(p.read_text()[-3000:] for p in self.tmp.glob("*.log"))
        pytest.fail(f"timed out waiting for {what}; counts {self.counts()}\n{logs}")


@pytest.fixture
def stack(postgres_url: str, tmp_path: Path):
    engine = make_engine(postgres_url)
    names = ", ".join(t.name for t in reversed(metadata.sorted_tables))
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    twilio = FakeTwilio(delay=0.05).start()
    port = free_port()
    redis_proc = start_redis(port, tmp_path / "redis.log")
    env = {
        "REMINDERS_DATABASE_URL": postgres_url,
        "REMINDERS_BROKER_URL": f"redis://127.0.0.1:{port}/0",
        "REMINDERS_VAR_DIR": str(tmp_path / "var"),
        "TWILIO_ACCOUNT_SID": twilio.account_sid,
        "TWILIO_AUTH_TOKEN": twilio.auth_token,
        "TWILIO_FROM_NUMBER": "+18055550100",
        "TWILIO_API_BASE_URL": twilio.url,
        "REMINDERS_SMS_RATE_PER_SECOND": "1000",
        "REMINDERS_DISPATCH_INTERVAL": "0.5",
        "REMINDERS_RECONCILE_INTERVAL": "1",
        "REMINDERS_QUEUE_LEASE_SECONDS": "8",
        "REMINDERS_SEND_LEASE_SECONDS": "4",
    }
    _make_due_texts(env)
    s = Stack(env=env, engine=engine, twilio=twilio, tmp=tmp_path, redis_port=port)
    s.redis = redis_proc  # type: ignore[attr-defined]
    yield s
    s.redis.kill()  # type: ignore[attr-defined]
    twilio.stop()
    engine.dispose()


def _make_due_texts(env: dict[str, str]) -> None:
    """Hundreds of texters, each with one text due now (the SMS cap allows one a day)."""
    c = bootstrap(Settings(**env))
    due_texts_for_many(c.engine, TEXTS, now=datetime.now(UTC), tag="E2E")
    c.engine.dispose()


def _total(stack: Stack) -> int:
    return sum(stack.counts().values())


def _check_everything_sent_once(stack: Stack, *, allowed_duplicates: int) -> int:
    counts = stack.counts()
    total = sum(counts.values())
    assert counts == {"sent": total}, counts
    with stack.engine.connect() as conn:  # type: ignore[attr-defined]
        sids = conn.scalars(select(scheduled_messages.c.provider_id)).all()
    assert len(set(sids)) == total
    known = {m["sid"] for m in stack.twilio.messages}
    assert set(sids) <= known, "a row points at a message Twilio never took"
    duplicates = len(stack.twilio.messages) - total
    assert 0 <= duplicates <= allowed_duplicates, f"{duplicates} duplicate texts"
    return duplicates


def test_sigkill_of_a_worker_mid_batch_loses_nothing(stack: Stack):
    total = _total(stack)
    assert total >= 300, f"only {total} texts: the test needs hundreds"
    beat = start_celery(
        "beat", stack.env, stack.tmp / "beat.log", "-s", str(stack.tmp / "beat-schedule")
    )
    worker = start_celery(
        "worker",
        stack.env,
        stack.tmp / "worker1.log",
        "--concurrency",
        str(CONCURRENCY),
        "-n",
        "w1@%h",
    )
    try:
        stack.wait_until(lambda: len(stack.twilio.messages) >= total // 3, 60, "a third sent")
        kill_group(worker)  # SIGKILL: the main process and every pool process at once
        at_kill = stack.counts()
        in_flight = at_kill.get("sending", 0)
        worker = start_celery(
            "worker",
            stack.env,
            stack.tmp / "worker2.log",
            "--concurrency",
            str(CONCURRENCY),
            "-n",
            "w2@%h",
        )
        back = time.monotonic()
        stack.wait_until(lambda: stack.counts() == {"sent": total}, 120, "every text sent")
        settled = time.monotonic() - back
    finally:
        kill_group(worker)
        kill_group(beat)
    assert settled <= 60, f"settled {settled:.0f} s after the new worker started"
    duplicates = _check_everything_sent_once(stack, allowed_duplicates=max(in_flight, 0))
    with stack.engine.connect() as conn:  # type: ignore[attr-defined]
        confirmed = conn.scalar(
            select(func.count()).where(
                scheduled_messages.c.status_reason.like("confirmed with the provider%")
            )
        )
    assert confirmed + duplicates <= in_flight
    print(
        f"\n{total} texts; {in_flight} in flight at the kill; {confirmed} confirmed with "
        f"Twilio by reconciliation; {duplicates} duplicates; settled {settled:.1f} s after the "
        f"restart; state at kill {at_kill}"
    )


def test_redis_killed_and_restarted_empty_loses_nothing(stack: Stack):
    total = _total(stack)
    beat = start_celery(
        "beat", stack.env, stack.tmp / "beat.log", "-s", str(stack.tmp / "beat-schedule")
    )
    worker = start_celery(
        "worker", stack.env, stack.tmp / "worker.log", "--concurrency", str(CONCURRENCY)
    )
    try:
        stack.wait_until(lambda: len(stack.twilio.messages) >= total // 3, 60, "a third sent")
        stack.redis.kill()  # type: ignore[attr-defined]  # every queued task is gone with it
        stack.redis.wait()  # type: ignore[attr-defined]
        time.sleep(1.0)
        stack.redis = start_redis(stack.redis_port, stack.tmp / "redis2.log")  # type: ignore[attr-defined]
        back = time.monotonic()
        stack.wait_until(lambda: stack.counts() == {"sent": total}, 150, "every text sent")
        settled = time.monotonic() - back
    finally:
        kill_group(worker)
        kill_group(beat)
    assert settled <= 60, f"settled {settled:.0f} s after Redis came back"
    duplicates = _check_everything_sent_once(stack, allowed_duplicates=CONCURRENCY)
    print(
        f"\n{total} texts through a Redis restart; {duplicates} duplicates; settled {settled:.1f} s"
    )
