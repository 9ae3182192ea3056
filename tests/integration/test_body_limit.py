"""Request bodies are counted as they stream in and refused past their limit, before parsing."""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from webtools import add_staff, client, csrf, login, token

from reminders.adapters.db.orm import audit_log, enrollments, import_runs, inbound_messages
from reminders.entrypoints.web.app import create_app
from support.web_server import post_chunked, serve

FIVE_MB = 5 * 1024 * 1024


def rows(engine, table) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)


class TempWatch:
    """The largest total size the temp folder reached while the block ran."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.peak, self._stop = folder, 0, threading.Event()

    def __enter__(self) -> TempWatch:
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.is_set():
            size = sum(p.stat().st_size for p in self.folder.rglob("*") if p.is_file())
            self.peak = max(self.peak, size)
            time.sleep(0.005)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture
def temp_folder(tmp_path, monkeypatch) -> Path:
    """Where the multipart parser would spool uploads to disk (the /tmp that filled up)."""
    folder = tmp_path / "spool"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_chunked_oversize_bodies_get_413_and_write_nothing(live, engine, temp_folder):
    add_staff(live)
    headers = token(live)
    audit_before = rows(engine, audit_log)
    with serve(create_app(live)) as port, TempWatch(temp_folder) as spool:
        login_form = post_chunked(
            port, "/staff/login", total=FIVE_MB, content_type="application/x-www-form-urlencoded"
        )
        upload_to_login = post_chunked(
            port,
            "/staff/login",
            total=FIVE_MB,
            content_type="multipart/form-data; boundary=xyz",
            prefix=b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.csv"'
            b"\r\nContent-Type: text/csv\r\n\r\n",
        )
        webhook = post_chunked(
            port,
            "/webhooks/twilio/inbound",
            total=FIVE_MB,
            content_type="application/x-www-form-urlencoded",
            headers={"X-Twilio-Signature": "anything"},
        )
        api = post_chunked(
            port,
            "/api/v1/enrollments",
            total=FIVE_MB,
            content_type="application/json",
            headers=headers,
        )
        fhir = post_chunked(
            port, "/fhir/Procedure", total=FIVE_MB, content_type="application/fhir+json",
            headers=headers,
        )  # fmt: skip
    for status, body in (login_form, upload_to_login, api, fhir):
        assert status == 413, body
        assert b"larger than 1048576 bytes" in body
    # Twilio's webhooks have their own 64 KiB cap, chunked or not (issue 22, finding 16).
    assert webhook[0] == 413 and b"larger than 65536 bytes" in webhook[1]
    assert rows(engine, enrollments) == 0 and rows(engine, inbound_messages) == 0
    assert rows(engine, audit_log) == audit_before  # no login, no enrollment recorded
    assert spool.peak <= 1024 * 1024 + 65536  # never more than the limit reached the disk
    assert list(temp_folder.iterdir()) == []


def test_a_declared_oversize_body_is_refused_before_the_app_reads_it(container, engine):
    c = client(container)
    r = c.post(
        "/api/v1/enrollments",
        content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        headers={**token(container), "Content-Type": "application/json"},
    )
    assert r.status_code == 413
    assert r.json()["detail"] == "the request body is larger than 1048576 bytes"
    assert r.headers["x-content-type-options"] == "nosniff"  # headers on a 413 too
    assert rows(engine, enrollments) == 0


def test_the_csv_upload_has_its_own_larger_limit(container, engine, temp_folder):
    sent = []
    container.send_task = lambda name, *args: sent.append((name, *args))
    add_staff(container)
    c = client(container)
    login(c)
    header = "first_name,last_name,phone,procedure,performed_at\n"
    line = "Ana,Lopez,+18055550142,kyphoplasty,2026-05-04T07:00\n"
    two_mb = header + line * (2 * 1024 * 1024 // len(line))
    page = c.get("/staff/imports")
    r = c.post(
        "/staff/imports",
        data={"csrf_token": csrf(page.text)},
        files={"file": ("clinic.csv", two_mb.encode(), "text/csv")},
        follow_redirects=False,
    )
    assert r.status_code != 413  # 2 MB: over the form limit, under the upload limit
    runs = rows(engine, import_runs)
    eleven_mb = header + line * (11 * 1024 * 1024 // len(line))
    r = c.post(
        "/staff/imports",
        data={"csrf_token": csrf(page.text)},
        files={"file": ("big.csv", eleven_mb.encode(), "text/csv")},
        follow_redirects=False,
    )
    assert r.status_code == 413
    assert rows(engine, import_runs) == runs
