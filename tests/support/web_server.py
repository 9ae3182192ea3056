"""The web app under a real uvicorn in a thread, and a raw HTTP client that streams chunks."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import uvicorn

from support.smtp import free_port


@contextlib.contextmanager
def serve(app: object) -> Iterator[int]:
    """Run `app` on 127.0.0.1 until the block ends; yield its port."""
    port = free_port()
    # log_config=None: uvicorn's records go to the process's logging as they are (and
    # to pytest's caplog), and the test process's logging is not reconfigured.
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host="127.0.0.1",
        port=port,
        log_config=None,
        log_level=None,
        access_log=True,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


def post_chunked(
    port: int,
    path: str,
    *,
    total: int,
    content_type: str,
    headers: dict[str, str] | None = None,
    prefix: bytes = b"",
) -> tuple[int, bytes]:
    """POST `total` bytes with Transfer-Encoding: chunked (no Content-Length); return the
    status and body. The answer is read while sending: a server that refuses early closes
    the connection, and a reader that waited for the upload to end would lose it."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {content_type}\r\n"
        f"Transfer-Encoding: chunked\r\n{extra}\r\n"
    )
    answer = bytearray()

    def read() -> None:
        with contextlib.suppress(OSError):
            while data := sock.recv(65536):
                answer.extend(data)
                if b"\r\n\r\n" in answer and _complete(bytes(answer)):
                    return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    chunk = b"a" * 65536
    with contextlib.suppress(OSError):  # the server may hang up once it has answered
        sock.sendall(head.encode())
        if prefix:
            sock.sendall(b"%x\r\n%b\r\n" % (len(prefix), prefix))
        sent = 0
        while sent < total and reader.is_alive():
            sock.sendall(b"%x\r\n%b\r\n" % (len(chunk), chunk))
            sent += len(chunk)
        sock.sendall(b"0\r\n\r\n")
    reader.join(20)
    sock.close()
    status_line, _, rest = bytes(answer).partition(b"\r\n")
    body = rest.partition(b"\r\n\r\n")[2]
    return int(status_line.split()[1]), body


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False
