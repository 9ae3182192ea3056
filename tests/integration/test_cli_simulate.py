"""`reminders simulate`: signed webhooks the running service accepts, as Twilio's would be."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import test_webhooks as shared
import uvicorn
from click.testing import CliRunner
from sqlalchemy import select

from reminders.adapters.db.orm import escalations, sms_opt_outs
from reminders.entrypoints.cli.main import main
from reminders.entrypoints.web.app import create_app
from support.processes import free_port

twilio, smtp, live = shared.twilio, shared.smtp, shared.live  # fixtures


@pytest.fixture
def served(live, monkeypatch) -> Iterator[str]:
    """The app on a real port; the CLI reads the same settings (token, public URL)."""
    monkeypatch.setattr("reminders.entrypoints.cli.simulate.get_settings", lambda: live.settings)
    port = free_port()
    server = uvicorn.Server(
        # log_config=None: leave the test process's logging as it is (other tests read it).
        uvicorn.Config(create_app(live), host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def simulate(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["simulate", *args])


def test_a_simulated_reply_is_signed_and_handled(served, live, engine):
    shared.enroll(live)
    shared.deliver(live, shared.DAY1_CHECKIN)
    r = simulate("reply", "(805) 555-0142", "9", "--url", served)
    assert r.exit_code == 0, r.output
    assert r.output.startswith("The service answered:")
    with engine.connect() as conn:
        assert conn.execute(select(escalations.c.kind)).scalars().all() == ["red_flag"]
    assert simulate("reply", "805 555 0142", "STOP", "--url", served).exit_code == 0
    with engine.connect() as conn:
        assert conn.execute(select(sms_opt_outs.c.active)).scalar_one() is True


def test_a_simulated_status_moves_the_message(served, live, engine, twilio):
    shared.enroll(live)
    shared.deliver(live, shared.DAY0_TEXT)
    message, row = shared.sent_text(engine, twilio)
    r = simulate("status", message["sid"], "undelivered", "--error-code", "30003", "--url", served)
    assert r.exit_code == 0 and "Reported" in r.output, r.output
    assert shared.row(engine, row.id).error_code == "30003"


def test_simulate_says_what_is_wrong_in_one_line(served, live, monkeypatch):
    bad = simulate("reply", "805", "hi", "--url", served)
    assert bad.exit_code == 2 and "not a valid phone number" in bad.output
    nobody = simulate("reply", "8055550142", "hi", "--url", "http://127.0.0.1:9")
    assert nobody.exit_code == 1 and "nothing answers" in nobody.output
    unsigned = live.settings.model_copy(update={"twilio_auth_token": "other"})
    monkeypatch.setattr("reminders.entrypoints.cli.simulate.get_settings", lambda: unsigned)
    refused = simulate("reply", "8055550142", "hi", "--url", served)
    assert refused.exit_code == 1 and "403" in refused.output
