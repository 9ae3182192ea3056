"""A local stand-in for Twilio's Messages and Calls APIs, driven through the real twilio client.

Faults on demand: an HTTP status with a Twilio error code, or a hang, for the next
request or for one recipient; every accepted message is recorded for assertions.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


@dataclass
class Fault:
    status: int = 500
    code: int | None = None
    hang: float = 0.0
    to: str | None = None  # only for this recipient; None = the next request
    times: int = 1
    message: str = ""  # Twilio's words, {to} replaced: "The 'To' number {to} is not valid."
    accept: bool = False  # with hang: take the message, then answer it (too) late
    retry_after: float | None = None  # a Retry-After header on the error


@dataclass
class FakeTwilio:
    account_sid: str = "AC" + "0" * 32
    auth_token: str = "test-token"
    messages: list[dict] = field(default_factory=list)
    calls: list[dict] = field(default_factory=list)  # /Calls.json: voice calls placed
    faults: deque = field(default_factory=deque)
    requests: int = 0
    delay: float = 0.0  # added latency on every create, like a real network
    # A storm: until this time.monotonic(), every create gets this fault (429, 5xx).
    storm_until: float = 0.0
    storm: Fault | None = None
    # (time.monotonic() of arrival, status answered) of every create, for rate assertions.
    log: list[tuple[float, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else headers and body stall 40 ms on delayed ACK

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                fake._create(self)

            def do_GET(self) -> None:
                fake._list(self)

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256  # workers keep many requests in flight at once

            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a killed worker drops its connection mid-request: expected here

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> FakeTwilio:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail(self, **kwargs: object) -> None:
        self.faults.append(Fault(**kwargs))  # type: ignore[arg-type]

    def start_storm(self, seconds: float, **kwargs: object) -> None:
        """Every create fails this way for `seconds` (status, code, retry_after)."""
        self.storm = Fault(**kwargs)  # type: ignore[arg-type]
        self.storm_until = time.monotonic() + seconds

    def duplicates(self) -> int:
        """Texts taken more than once for the same recipient and body."""
        seen = [(m["to"], m["body"]) for m in self.messages]
        return len(seen) - len(set(seen))

    def sent_to(self, to: str) -> list[dict]:
        return [m for m in self.messages if m["to"] == to]

    def called(self, to: str) -> list[dict]:
        return [c for c in self.calls if c["to"] == to]

    # -- request handling ---------------------------------------------------------------

    def _take_fault(self, to: str) -> Fault | None:
        with self._lock:
            for fault in list(self.faults):
                if fault.to in (None, to):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def _create(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length", 0))
        form = {k: v[0] for k, v in parse_qs(h.rfile.read(length).decode()).items()}
        arrived = time.monotonic()
        with self._lock:
            self.requests += 1
        if not h.headers.get("Authorization", "").startswith("Basic "):
            return self._send(h, 401, {"code": 20003, "message": "Authenticate", "status": 401})
        to = form.get("To", "")
        fault = self._take_fault(to)
        if fault is None and self.storm is not None and arrived < self.storm_until:
            fault = self.storm
        with self._lock:
            self.log.append((arrived, fault.status if fault and not fault.accept else 201))
        if self.delay:
            time.sleep(self.delay)
        if fault is not None:
            if fault.hang:
                time.sleep(fault.hang)
                if not fault.accept:
                    return self._send(h, 503, {"code": 20503, "message": "hung", "status": 503})
            else:
                return self._send(
                    h,
                    fault.status,
                    {
                        "code": fault.code,
                        "message": fault.message.format(to=to)
                        if fault.message
                        else f"fault {fault.code or fault.status}",
                        "more_info": "https://www.twilio.com/docs/errors",
                        "status": fault.status,
                    },
                    retry_after=fault.retry_after,
                )
        if urlparse(h.path).path == f"/2010-04-01/Accounts/{self.account_sid}/Calls.json":
            return self._call(h, form)
        if (
            not to
            or "Body" not in form
            or not (form.get("From") or form.get("MessagingServiceSid"))
        ):
            return self._send(
                h, 400, {"code": 21604, "message": "missing To, From or Body", "status": 400}
            )
        now = datetime.now(UTC)
        message = {
            "sid": "SM" + uuid.uuid4().hex,
            "account_sid": self.account_sid,
            "to": to,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "body": form["Body"],
            "status": "queued",
            "num_segments": "1",
            "direction": "outbound-api",
            "date_created": format_datetime(now, usegmt=True),
            "date_updated": format_datetime(now, usegmt=True),
            "date_sent": None,
            "error_code": None,
            "error_message": None,
            "status_callback": form.get("StatusCallback"),
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/x.json",
        }
        with self._lock:
            self.messages.append(message)
        self._send(h, 201, message)

    def _call(self, h: BaseHTTPRequestHandler, form: dict[str, str]) -> None:
        """Calls.json: To, From and one of Twiml or Url, as Twilio requires."""
        if not form.get("To") or not form.get("From") or not (form.get("Twiml") or form.get("Url")):
            return self._send(
                h, 400, {"code": 21205, "message": "missing To, From or Twiml/Url", "status": 400}
            )
        now = format_datetime(datetime.now(UTC), usegmt=True)
        call = {
            "sid": "CA" + uuid.uuid4().hex,
            "account_sid": self.account_sid,
            "to": form["To"],
            "from": form["From"],
            "twiml": form.get("Twiml"),
            "url": form.get("Url"),
            "status": "queued",
            "direction": "outbound-api",
            "date_created": now,
            "date_updated": now,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/x.json",
        }
        with self._lock:
            self.calls.append(call)
        self._send(h, 201, call)

    def _list(self, h: BaseHTTPRequestHandler) -> None:
        query = {k: v[0] for k, v in parse_qs(urlparse(h.path).query).items()}
        calls = urlparse(h.path).path.endswith("/Calls.json")
        with self._lock:
            found = [
                m
                for m in reversed(self.calls if calls else self.messages)
                if "To" not in query or m["to"] == query["To"]
            ]
        size = int(query.get("PageSize", 50))
        self._send(
            h,
            200,
            {
                ("calls" if calls else "messages"): found[:size],
                "next_page_uri": None,
                "page": 0,
                "page_size": size,
                "first_page_uri": h.path,
                "uri": h.path,
                "previous_page_uri": None,
                "start": 0,
                "end": len(found[:size]),
            },
        )

    @staticmethod
    def _send(
        h: BaseHTTPRequestHandler, status: int, payload: dict, retry_after: float | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        try:
            h.send_response(status)
            if retry_after is not None:
                h.send_header("Retry-After", f"{retry_after:g}")
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)
