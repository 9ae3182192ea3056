"""The embedded default's outbox (adapters/providers/outbox.py): a file per message, a masked console line."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

from reminders.adapters.providers.outbox import Outbox


def test_a_text_is_written_once_and_shown_masked(tmp_path):
    console = io.StringIO()
    box = Outbox(tmp_path / "outbox", echo=console)
    sent = box.send_sms(to="+18055550142", body="Rest today.", reference="m1")
    again = box.send_sms(to="+18055550142", body="Rest today.", reference="m1")
    record = json.loads((tmp_path / "outbox" / "m1.json").read_text(encoding="utf-8"))
    assert (record["channel"], record["to"], record["body"]) == (
        "sms",
        "+18055550142",
        "Rest today.",
    )
    assert sent.provider_id == again.provider_id == "outbox-m1"
    assert console.getvalue() == "[outbox] SMS to +1******0142: Rest today.\n"  # once, masked


def test_an_email_keeps_its_text_and_html(tmp_path):
    console = io.StringIO()
    box = Outbox(tmp_path, echo=console)
    box.send_email(
        to="ana@example.org", subject="Día 1", text="Hola", html="<p>Hola</p>", reference="m2"
    )
    record = json.loads((tmp_path / "m2.json").read_text(encoding="utf-8"))
    assert (record["subject"], record["text"], record["html"]) == ("Día 1", "Hola", "<p>Hola</p>")
    assert "Día 1" in (tmp_path / "m2.json").read_text(encoding="utf-8")  # not \u escapes
    assert console.getvalue() == "[outbox] EMAIL to a***@example.org: Día 1\n"


def test_after_a_crash_a_written_message_is_found_not_sent_again(tmp_path):
    box = Outbox(tmp_path, echo=None)
    since = datetime(2026, 3, 8, tzinfo=UTC)
    assert box.find_sent(to="+18055550142", body="x", reference="m3", since=since) == []
    box.send_sms(to="+18055550142", body="x", reference="m3")
    found = box.find_sent(to="+18055550142", body="x", reference="m3", since=since)
    assert [s.provider_id for s in found] == ["outbox-m3"]
    assert list(tmp_path.iterdir()) == [tmp_path / "m3.json"]  # no temporary file left behind
