"""A recovery two days in, for browser tests: sent texts, a red flag, a bounce, a STOP."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from reminders.bootstrap import bootstrap
from reminders.domain.enrollment.commands import EnrollPatient, GiveConsent
from reminders.domain.model import Channel
from reminders.services.delivery.dispatch import dispatch_due
from reminders.services.delivery.sending import reference, send_message
from reminders.services.enrollments import enrollment, intake
from reminders.services.enrollments.csv_rows import read_csv
from reminders.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ZONE = ZoneInfo("America/Los_Angeles")
JOSE = "+18055550142"
LUIS = "+18055550177"
CSV = """first_name,last_name,phone,email,procedure,performed_at,sms_consent,email_consent
Mia,Ortiz,805-555-0111,,kyphoplasty,{when},verbal,
Bo,Li,555,,kyphoplasty,{when},verbal,
"""


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass(frozen=True)
class Seeded:
    jose: int
    luis: int
    run: int
    first_text: int  # José's first text, reported undelivered


def simulate(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "reminders"), "simulate", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _enroll(c: Any, first: str, last: str, phone: str, performed: datetime) -> int:
    cmd = EnrollPatient(
        first_name=first,
        last_name=last,
        procedure="kyphoplasty",
        performed_at=performed,
        timezone=ZONE.key,
        phone=phone,
        email=f"{first.lower()}@example.org",
        consents=(GiveConsent(Channel.SMS), GiveConsent(Channel.EMAIL)),
        enrolled_by="nurse.kim",
    )
    found = enrollment.enroll(cmd, uow=c.uow(), planning=c.planning, now=c.clock(), via="test")
    assert found.enrollment.id is not None
    return found.enrollment.id


def seed_journey(server_env: dict[str, str]) -> Seeded:
    """Two patients two days into recovery, their texts sent through the outbox; José
    answered the pain check-in with 9 (a red flag) and then wrote that he cannot feel his
    legs (a second, free-text one), his first text bounced, Luis said STOP."""
    now = datetime.now(UTC)
    performed = datetime.combine(now.astimezone(ZONE).date() - timedelta(days=2), time(7), ZONE)
    clock = Clock(performed.astimezone(UTC) + timedelta(minutes=30))
    c = bootstrap(Settings(**server_env), clock=clock)
    jose = _enroll(c, "José", "Ramírez", JOSE, performed)
    luis = _enroll(c, "Luis", "Pemberton-Featherstonehaugh", LUIS, performed)
    with c.uow() as uow:  # every message whose time has come, sent when it was due
        due = sorted({m.send_at for eid in (jose, luis) for m in uow.enrollments.get(eid).messages})
    for at in (t for t in due if t <= now):
        clock.now = at
        claimed: list[int] = []
        dispatch_due(uow=c.uow(), enqueue=claimed.extend, now=c.clock)
        for mid in claimed:
            send_message(mid, uow=c.uow(), delivery=c.delivery, now=c.clock)
    clock.now = now
    with c.uow() as uow:
        texts = [m for m in uow.enrollments.get(jose).messages if m.channel is Channel.SMS]
    first_text = next(m.id for m in texts if m.provider_id)
    assert first_text is not None
    when = (now.astimezone(ZONE) - timedelta(hours=3)).strftime("%Y-%m-%d %H:%M")
    rows = read_csv(CSV.format(when=when).encode())
    run = intake.start_import(
        uow=c.uow(), filename="ward-b.csv", rows=rows, by="nurse.kim", now=now
    )
    intake.run_import(
        run, uow=c.uow(), planning=c.planning, clock=c.clock, default_timezone=ZONE.key
    )
    c.engine.dispose()
    # The patient's side, through the running service, signed as Twilio signs it.
    simulate(
        server_env,
        "status",
        f"outbox-{reference(first_text)}",
        "undelivered",
        "--error-code",
        "30003",
    )
    assert "answered" in simulate(server_env, "reply", JOSE, "9 NO")  # a whole answer
    simulate(server_env, "reply", JOSE, "I can't feel my legs")  # a second, free-text flag
    simulate(server_env, "reply", LUIS, "STOP")
    simulate(server_env, "reply", "+18055550999", "Is the clinic open on Saturday?")
    return Seeded(jose=jose, luis=luis, run=run, first_text=first_text)
