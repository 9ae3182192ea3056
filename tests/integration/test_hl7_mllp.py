"""The MLLP listener on a real socket: many messages on one connection, each answered in
order; bad framing and an oversize message refused without losing the others."""

from __future__ import annotations

import asyncio
import time

import hl7
import pytest
from click.testing import CliRunner
from hl7.mllp import open_hl7_connection
from sqlalchemy import func, select

from reminders.adapters.db.orm import enrollments, hl7_messages
from reminders.entrypoints.cli.main import main
from reminders.entrypoints.hl7.listener import Background, door_of
from support.hl7_messages import a03, adt, pid

MAX_BYTES = 16 * 1024


@pytest.fixture
def listener(container):
    background = Background(door_of(container), max_bytes=MAX_BYTES).start()
    yield background
    background.stop()


async def exchange(port: int, blocks: list[bytes]) -> list[hl7.Message]:
    """Write every block on one connection while reading the ACKs as they come."""
    reader, writer = await open_hl7_connection("127.0.0.1", port, limit=MAX_BYTES * 4)

    async def write() -> None:
        for block in blocks:
            writer.write(block)
            await writer.drain()

    sending = asyncio.create_task(write())
    acks = [await asyncio.wait_for(reader.readmessage(), 30) for _ in blocks]
    await sending
    writer.close()
    return acks


def framed(text: str) -> bytes:
    return b"\x0b" + text.encode() + b"\x1c\r"


def test_a_thousand_messages_over_one_connection(listener, engine):
    # 200 discharges that enroll and 800 updates for them, interleaved as a feed sends them.
    messages = []
    for n in range(200):
        mrn = f"MRN{n:05d}"
        messages.append(a03(f"A03-{n}", mrn))
        messages += [
            adt("A08", f"A08-{n}-{k}", mrn, pid(mrn, f"(805)555-{1000 + k:04d}^PRN^CP"))
            for k in range(4)
        ]
    started = time.monotonic()
    acks = asyncio.run(exchange(listener.port, [framed(m) for m in messages]))
    elapsed = time.monotonic() - started
    assert len(acks) == 1000
    # Each ACK answers its own message, in order (MSA-2 = that message's MSH-10).
    sent_ids = [str(hl7.parse(m)["MSH.F10"]) for m in messages]
    assert [str(a["MSA.F2"]) for a in acks] == sent_ids
    assert {str(a["MSA.F1"]) for a in acks} == {"AA"}
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(enrollments)) == 200
        assert conn.scalar(select(func.count()).select_from(hl7_messages)) == 1000
    print(f"\n1000 HL7 messages over one MLLP connection: {elapsed:.1f} s ({engine.dialect.name})")


def test_bad_framing_and_an_oversize_message_lose_nothing_else(listener, engine):
    oversize = a03("BIG", "MRN99999") + "\rNTE|1||" + "x" * (MAX_BYTES * 2)
    blocks = [
        framed(a03("OK-1", "MRN00001")),
        a03("NO-START", "MRN00002").encode() + b"\x1c\r",  # no <VT> before it
        framed(oversize),
        framed(a03("OK-2", "MRN00003")),
        framed("MSH|garbage"),
        framed(a03("OK-3", "MRN00004")),
    ]
    acks = asyncio.run(exchange(listener.port, blocks[:3]))
    acks += asyncio.run(exchange(listener.port, blocks[3:]))
    answers = [(str(a["MSA.F1"]), str(a["MSA.F2"])) for a in acks]
    assert answers[0] == ("AA", "OK-1")
    assert answers[1][0] == "AR" and answers[2][0] == "AR"  # refused, the connection kept
    assert answers[3] == ("AA", "OK-2") and answers[4][0] == "AR" and answers[5] == ("AA", "OK-3")
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(enrollments)) == 3
        refused = conn.execute(
            select(hl7_messages.c.detail).where(hl7_messages.c.outcome == "refused")
        ).scalars()
        words = " ".join(refused)
    assert "larger than" in words and "<VT>" in words


def test_reminders_hl7_listen_needs_a_port(container, monkeypatch):
    monkeypatch.setattr("reminders.entrypoints.cli.hl7.container", lambda: container)
    result = CliRunner().invoke(main, ["hl7", "listen"])
    assert result.exit_code == 2
    assert result.output.strip() == "error: --port: give one, or set REMINDERS_HL7_PORT"
