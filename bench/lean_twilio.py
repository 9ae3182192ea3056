"""A lean stand-in for Twilio's Messages API for benchmarks, in its own process.

Real Twilio costs the service no CPU; the test suite's fake (tests/support/fake_twilio.py,
http.server with a thread per connection, in the benchmark's own process) cost about as
much CPU per message as the service itself, so on 2 cores it, not the service, set the
end-to-end rate. This one is an asyncio server with keep-alive and a minimal HTTP/1.1
parser: a create is answered 201 with the fields the twilio client reads, after
`latency` seconds (asyncio.sleep, so any number wait at once); a list is answered empty
(the benchmarks have no crashes to reconcile). Faults are the test fake's business.

    with LeanTwilio(latency=0.1) as twilio: ...   # twilio.url, account_sid, auth_token
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import socket
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime
from types import TracebackType
from urllib.parse import parse_qs

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "bench-token"


def _message(form: dict[str, list[str]], n: int, prefix: str) -> bytes:
    now = format_datetime(datetime.now(UTC), usegmt=True)
    return json.dumps(
        {
            "sid": f"SM{prefix}{n:016x}",
            "account_sid": ACCOUNT_SID,
            "to": form.get("To", [""])[0],
            "from": form.get("From", [None])[0],
            "messaging_service_sid": form.get("MessagingServiceSid", [None])[0],
            "body": form.get("Body", [""])[0],
            "status": "queued",
            "num_segments": "1",
            "direction": "outbound-api",
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "error_code": None,
            "error_message": None,
            "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/x.json",
        }
    ).encode()


EMPTY_PAGE = json.dumps(
    {"messages": [], "next_page_uri": None, "page": 0, "page_size": 50, "start": 0, "end": 0}
).encode()


def _response(status: str, body: bytes) -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


async def _serve(sock: socket.socket, latency: float) -> None:
    prefix = uuid.uuid4().hex[:16]
    count = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal count
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                body = await reader.readexactly(length) if length else b""
                if head.startswith(b"POST"):
                    count += 1
                    n = count
                    if latency:
                        await asyncio.sleep(latency)
                    form = parse_qs(body.decode())
                    writer.write(_response("201 Created", _message(form, n, prefix)))
                else:
                    writer.write(_response("200 OK", EMPTY_PAGE))
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            writer.close()

    server = await asyncio.start_server(handle, sock=sock, backlog=1024)
    async with server:
        await server.serve_forever()


def _run(sock: socket.socket, latency: float) -> None:
    asyncio.run(_serve(sock, latency))


class LeanTwilio:
    """The server in a child process, listening on a free local port."""

    account_sid = ACCOUNT_SID
    auth_token = AUTH_TOKEN

    def __init__(self, latency: float = 0.0) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1024)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        ctx = multiprocessing.get_context("fork")
        self.process = ctx.Process(target=_run, args=(self.sock, latency), daemon=True)

    def __enter__(self) -> LeanTwilio:
        self.process.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.process.terminate()
        self.process.join(5)
        self.sock.close()
