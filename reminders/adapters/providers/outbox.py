"""The embedded default's providers: each message is a file under ./var/outbox and a console line."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from reminders.adapters.providers.ports import Sent
from reminders.domain.enrollment.contact import mask_email, mask_phone


class Outbox:
    """Writes each message once, atomically; a second send of the same reference is a no-op."""

    def __init__(self, folder: Path, *, echo: TextIO | None = sys.stdout) -> None:
        self.folder = folder
        self.echo = echo
        self.sender = "outbox"

    def _write(self, reference: str, record: dict[str, str]) -> Sent:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{reference}.json"
        if path.exists():
            return Sent(provider_id=f"outbox-{reference}", status="sent")
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
        tmp.replace(path)
        if self.echo is not None:
            print(self._line(record), file=self.echo, flush=True)
        return Sent(provider_id=f"outbox-{reference}", status="sent")

    @staticmethod
    def _line(record: dict[str, str]) -> str:
        if record["channel"] == "sms":
            return f"[outbox] SMS to {mask_phone(record['to'])}: {record['body']}"
        if record["channel"] == "voice":
            return f"[outbox] CALL to {mask_phone(record['to'])}"
        return f"[outbox] EMAIL to {mask_email(record['to'])}: {record['subject']}"

    def send_sms(self, *, to: str, body: str, reference: str) -> Sent:
        return self._write(
            reference,
            {"channel": "sms", "to": to, "body": body, "at": datetime.now(UTC).isoformat()},
        )

    def send_email(self, *, to: str, subject: str, text: str, html: str, reference: str) -> Sent:
        return self._write(
            reference,
            {
                "channel": "email",
                "to": to,
                "subject": subject,
                "text": text,
                "html": html,
                "at": datetime.now(UTC).isoformat(),
            },
        )

    def place_call(self, *, to: str, twiml: str, reference: str) -> Sent:
        return self._write(
            reference,
            {"channel": "voice", "to": to, "twiml": twiml, "at": datetime.now(UTC).isoformat()},
        )

    def find_sent(self, *, to: str, body: str, reference: str, since: datetime) -> list[Sent]:
        path = self.folder / f"{reference}.json"
        return [Sent(provider_id=f"outbox-{reference}")] if reference and path.exists() else []

    def find_placed(self, *, to: str, reference: str, since: datetime) -> list[Sent]:
        return self.find_sent(to=to, body="", reference=reference, since=since)
