"""A stand-in broker for in-process tests: a queued task runs at once, as a worker would run it.

The real broker and workers are exercised by tests/e2e; here a web request's queued work
(on-call alerts) still happens, so tests can see its effect.
"""

from __future__ import annotations

from collections.abc import Callable

from reminders.bootstrap import Container
from reminders.services.delivery.notifications import deliver_notifications


def run_here(c: Container, queued: list[tuple[str, tuple[object, ...]]]) -> Callable[..., None]:
    """A `send_task` that records each task and runs the ones web requests queue."""

    def send_task(name: str, *args: object) -> None:
        queued.append((name, args))
        if name == "reminders.send_alerts":
            ids = [int(i) for i in args[0]]  # type: ignore[attr-defined]
            deliver_notifications(uow=c.uow(), delivery=c.delivery, ids=ids, now=c.clock)
        else:
            raise AssertionError(f"no stand-in for task {name}")

    return send_task
