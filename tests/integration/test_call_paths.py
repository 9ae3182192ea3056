"""Two paths a newcomer follows through the code, measured (docs/architecture.md, "Two paths"):
one due message from dispatch to `sent`, and a patient's "pain 9" to the on-call page.

Counted with a profiler hook: every call from one module of reminders/ into another (a
module's calls to its own helpers are read with it; dunders, comprehensions and the hooks
SQLAlchemy calls for every value aside), on the second message and the second reply (the
first warms what a running service has warm: compiled statements, templates, plan files).
The ceilings are today's figures: a change may shorten a path, never lengthen it. The goal
is 20 calls across 10 modules (not reached yet; the doc says where the calls go).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

import test_webhooks as shared
from test_webhooks import ANA, DAY1_CHECKIN, LUIS, ONCALL_PHONE, deliver, enroll, text_in

from reminders.entrypoints.web.api.webhooks import replying
from reminders.services.delivery.dispatch import dispatch_due
from reminders.services.delivery.notifications import deliver_notifications
from reminders.services.delivery.sending import send_message
from reminders.services.replies.inbound import InboundSms, receive_sms

twilio, smtp, live, web = shared.twilio, shared.smtp, shared.live, shared.web  # fixtures

ROOT = os.path.dirname(os.path.abspath(sys.modules["reminders"].__file__ or ""))
SKIP = {"<lambda>", "<genexpr>", "<listcomp>", "<dictcomp>", "<setcomp>"}
# Called by SQLAlchemy for every value and transaction, not by the path itself.
HOOKS = {"process_bind_param", "process_result_value", "_on_begin"}
# (calls, modules) as measured on 2026-12-08; lower them as the paths shrink.
DISPATCH_TO_SENT = (51, 20)
REPLY_TO_PAGE = (108, 39)  # 90/32 before understanding v2 and the audited first page


def calls_in(fn: Callable[[], object]) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []

    def profile(frame, event, arg):  # type: ignore[no-untyped-def]
        code = frame.f_code
        if event != "call" or not code.co_filename.startswith(ROOT) or code.co_name in SKIP:
            return
        if code.co_name.startswith("__") or code.co_name in HOOKS:
            return
        caller = frame.f_back
        while caller is not None and not caller.f_code.co_filename.startswith(ROOT):
            caller = caller.f_back  # through SQLAlchemy, Jinja2, the twilio client
        if caller is not None and caller.f_code.co_filename == code.co_filename:
            return  # a module's own helper: read with the module
        seen.append((os.path.relpath(code.co_filename, ROOT), code.co_name))

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return seen


def report(path: list[tuple[str, str]]) -> str:
    return "\n".join(f"{m}:{f}" for m, f in path)


def test_one_due_message_from_dispatch_to_sent(live, engine, twilio):
    enroll(live)
    enroll(live, LUIS)
    live.clock.now = shared.DAY0_TEXT  # both patients' first texts are due
    claimed: list[int] = []
    dispatch_due(uow=live.uow(), enqueue=claimed.extend, now=live.clock)
    texts = [r.id for r in shared.sms_rows(engine) if r.id in claimed]
    send_message(texts[0], uow=live.uow(), delivery=live.delivery, now=live.clock)  # warm
    live.clock.advance(seconds=1)

    def one() -> None:
        ids: list[int] = []
        dispatch_due(uow=live.uow(), enqueue=ids.extend, now=live.clock)
        send_message(texts[1], uow=live.uow(), delivery=live.delivery, now=live.clock)

    path = calls_in(one)
    assert len(twilio.messages) == 2
    modules = {m for m, _ in path}
    print(f"\ndispatch -> sent: {len(path)} calls across {len(modules)} modules\n{report(path)}")
    assert len(path) <= DISPATCH_TO_SENT[0], report(path)
    assert len(modules) <= DISPATCH_TO_SENT[1], sorted(modules)


def test_a_pain_9_reply_to_the_on_call_page(live, web, engine, twilio):
    enroll(live)
    enroll(live, LUIS)
    deliver(live, DAY1_CHECKIN)
    text_in(web, live, "9", phone=LUIS.phone or "")  # warm
    live.clock.advance(minutes=1)

    def reply() -> None:
        # What the inbound webhook runs for a text: the reply use case, then the alert task.
        handled = receive_sms(
            InboundSms(from_phone=ANA.phone or "", body="9", sid="SMpath9", to_phone=shared.SENDER),
            uow=live.uow(),
            replying=replying(live),
            now=live.clock(),
        )
        deliver_notifications(
            uow=live.uow(), delivery=live.delivery, ids=handled.notification_ids, now=live.clock
        )

    path = calls_in(reply)
    assert len(twilio.sent_to(ONCALL_PHONE)) == 2
    modules = {m for m, _ in path}
    print(f"\n'pain 9' -> page: {len(path)} calls across {len(modules)} modules\n{report(path)}")
    assert len(path) <= REPLY_TO_PAGE[0], report(path)
    assert len(modules) <= REPLY_TO_PAGE[1], sorted(modules)
