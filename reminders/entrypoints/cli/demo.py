"""The demo journey: a patient enrolled now, the plan played fast through the real services."""

from __future__ import annotations

import shutil
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from reminders.bootstrap import bootstrap
from reminders.domain.enrollment.commands import EnrollPatient, GiveConsent
from reminders.domain.model import Channel
from reminders.domain.planning.timing import zone_named
from reminders.services.delivery.dispatch import dispatch_due
from reminders.services.delivery.sending import send_message
from reminders.services.enrollments.enrollment import enroll, get_enrollment
from reminders.settings import get_settings

ZONE = "America/Los_Angeles"


class VirtualClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def play(folder: Path, *, seconds: float, language: str, procedure: str) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    settings = get_settings().model_copy(
        update={
            "var_dir": folder,
            "database_url": f"sqlite:///{folder / 'demo.db'}",
            "twilio_account_sid": "",  # the demo never sends for real
            "smtp_host": "",
            "redis_url": "",
            "sms_rate_per_second": 1000.0,
        }
    )
    zone = zone_named(ZONE)
    # The procedure ended at 10:00 this morning, clinic time; the nurse enrolls at 10:30.
    today = datetime.now(zone).replace(hour=10, minute=0, second=0, microsecond=0)
    clock = VirtualClock((today + timedelta(minutes=30)).astimezone(UTC))
    c = bootstrap(settings, clock=clock)
    c.delivery.sms.echo = None  # type: ignore[attr-defined]  # we print our own lines
    name = "Maria" if language == "es" else "Alex"
    result = enroll(
        EnrollPatient(
            first_name=name,
            last_name="Demo",
            phone="+18055550123",
            email="patient@example.org",
            procedure=procedure,
            performed_at=today,
            timezone=ZONE,
            language=language,
            enrolled_by="demo",
            consents=(GiveConsent(Channel.SMS), GiveConsent(Channel.EMAIL)),
        ),
        uow=c.uow(),
        planning=c.planning,
        now=clock(),
        via="demo",
    )
    e = result.enrollment
    times = sorted({m.send_at for m in e.messages if m.status.value == "scheduled"})
    pause = seconds / max(len(times), 1)
    click.echo(
        f"Demo: {name}, {procedure} on {today.strftime('%a %d %b %H:%M %Z')} "
        f"({ZONE}); {len(e.messages)} messages; outbox {folder / 'outbox'}\n"
    )
    start_day = today.date()
    while True:
        with c.uow() as uow:
            due = uow.message_reads.next_due_at()
        if due is None:
            break
        clock.now = max(clock.now, due)
        sent: list[int] = []
        dispatch_due(uow=c.uow(), enqueue=sent.extend, now=clock)
        for mid in sent:
            send_message(mid, uow=c.uow(), delivery=c.delivery, now=clock)
        _show(c, e.id, sent, start_day)
        time.sleep(pause)
    after = get_enrollment(e.id, uow=c.uow())  # type: ignore[arg-type]
    counts = Counter(m.status.value for m in after.messages)
    click.echo("\nDone: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))


def _show(c: object, enrollment_id: int | None, ids: list[int], start_day: object) -> None:
    assert enrollment_id is not None
    messages = {m.id: m for m in get_enrollment(enrollment_id, uow=c.uow()).messages}  # type: ignore[attr-defined]
    zone = zone_named(ZONE)
    for mid in ids:
        m = messages[mid]
        local = (m.sent_at or m.send_at).astimezone(zone)
        day = (local.date() - start_day).days  # type: ignore[operator]
        head = f"day {day:>2}  {local.strftime('%a %H:%M')}  {m.channel.value.upper():<5}"
        if m.status.value != "sent":
            click.echo(f"{head} [{m.status.value}: {m.status_reason}]")
        elif m.channel is Channel.SMS:
            click.echo(f"{head} {m.body}")
        else:
            click.echo(f"{head} subject: {m.body}")
