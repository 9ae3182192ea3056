"""MLLP listener (the `hl7` package's framing): one message a block, one ACK each, in order.

A connection carries any number of messages. A block that is too large or framed wrongly
is refused with an AR and the connection goes on with its next message; a block that
cannot be decoded is refused the same way. Each message is processed off the event loop
(the database is synchronous), one at a time per connection, so its ACK follows it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from hl7.mllp import InvalidBlockError, start_hl7_server
from hl7.mllp.streams import HL7StreamReader, HL7StreamWriter

from reminders.bootstrap import Container
from reminders.services.enrollments.hl7_intake import Handled, Hl7Door, receive, refused_block

log = logging.getLogger(__name__)


def door_of(c: Container) -> Hl7Door:
    return Hl7Door(
        new_uow=c.uow,
        planning=c.planning,
        timezone=c.settings.clinic_timezone,
        default_region=c.settings.default_region,
        clock=c.clock,
    )


def decode(block: bytes) -> str:
    """MLLP carries bytes: UTF-8 as most engines send it, else Latin-1 (ISO 8859-1, the
    charset of older feeds), which reads any byte."""
    try:
        return block.decode("utf-8")
    except UnicodeDecodeError:
        return block.decode("latin-1")


@dataclass
class Counters:
    messages: int = 0
    refused: int = 0
    connections: int = 0
    errors: list[str] = field(default_factory=list)


async def _connection(
    reader: HL7StreamReader,
    writer: HL7StreamWriter,
    *,
    door: Hl7Door,
    max_bytes: int,
    counters: Counters,
) -> None:
    counters.connections += 1
    skipping_tail = False  # the rest of an oversize block arrives after its refusal
    try:
        while True:
            try:
                block = await reader.readblock()
            except asyncio.IncompleteReadError:
                return  # the sender closed the connection (any partial block is dropped)
            except ValueError:  # larger than the limit: refused, its bytes dropped
                skipping_tail = True
                handled = await asyncio.to_thread(
                    refused_block, f"the message is larger than {max_bytes} bytes", door
                )
            except InvalidBlockError:
                if skipping_tail:  # the end of the oversize block already refused
                    skipping_tail = False
                    continue
                handled = await asyncio.to_thread(
                    refused_block, "the block does not start with <VT> (MLLP framing)", door
                )
            else:
                skipping_tail = False
                handled = await asyncio.to_thread(_handle, block, door)
            if handled.code == "AR":
                counters.refused += 1
            counters.messages += 1
            writer.writeblock(handled.ack.encode("utf-8"))
            await writer.drain()
    except (ConnectionResetError, BrokenPipeError):
        return
    finally:
        writer.close()


def _handle(block: bytes, door: Hl7Door) -> Handled:
    try:
        return receive(decode(block), door)
    except Exception as exc:  # one message's failure must not end the connection
        log.exception("HL7 message not processed")
        return refused_block(f"not processed: {exc.__class__.__name__}", door)


async def serve(
    door: Hl7Door,
    *,
    host: str,
    port: int,
    max_bytes: int,
    counters: Counters | None = None,
    started: Callable[[int], None] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Listen until `stop` is set (or forever); `started` gets the port bound."""
    counters = counters or Counters()

    async def on_client(reader: HL7StreamReader, writer: HL7StreamWriter) -> None:
        await _connection(reader, writer, door=door, max_bytes=max_bytes, counters=counters)

    server = await start_hl7_server(on_client, host, port, limit=max_bytes)
    bound = server.sockets[0].getsockname()[1]
    if started is not None:
        started(bound)
    async with server:
        if stop is None:
            await server.serve_forever()
        else:
            await stop.wait()


class Background:
    """The listener on its own thread and event loop (tests, and embedding)."""

    def __init__(self, door: Hl7Door, *, host: str = "127.0.0.1", max_bytes: int) -> None:
        self.counters = Counters()
        self.port = 0
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self._thread = threading.Thread(target=self._run, args=(door, host, max_bytes), daemon=True)

    def _run(self, door: Hl7Door, host: str, max_bytes: int) -> None:
        asyncio.set_event_loop(self._loop)

        def started(port: int) -> None:
            self.port = port
            self._ready.set()

        self._loop.run_until_complete(
            serve(
                door,
                host=host,
                port=0,
                max_bytes=max_bytes,
                counters=self.counters,
                started=started,
                stop=self._stop,
            )
        )

    def start(self) -> Background:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the HL7 listener did not start")
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
