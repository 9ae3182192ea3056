"""A fake FHIR R4 server (http.server in a thread) for the write-back tests.

It keeps what it was sent, honours If-None-Exist on the identifier (200 when it holds one
already, or 412 when `duplicates_412` is set), and can be told to fail the next requests
with a status, or to answer only after a delay (a timeout for the client).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


class FakeFhir:
    def __init__(self) -> None:
        self.stored: list[dict[str, Any]] = []  # every resource created, in order
        self.requests: list[dict[str, Any]] = []  # every POST: path, headers, body
        self.fail_next: list[int] = []  # statuses to answer, one a request, before working
        self.delay = 0.0  # seconds to wait before answering
        self.duplicates_412 = False
        self.token_requests: list[dict[str, str]] = []  # SMART token requests, as forms
        self.hold: threading.Event | None = None  # set: answer only once it is released
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                return None

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                if self.path.endswith("/token"):  # a SMART backend-services token request
                    form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                    fake.token_requests.append(form)
                    self._answer(200, {"access_token": f"issued-{len(fake.token_requests)}",
                                       "token_type": "bearer", "expires_in": 300})  # fmt: skip
                    return
                body = json.loads(self.rfile.read(length))
                with fake._lock:
                    fake.requests.append(
                        {"path": self.path, "headers": dict(self.headers), "body": body}
                    )
                    delay = fake.delay
                    status = fake.fail_next.pop(0) if fake.fail_next else None
                if delay:
                    time.sleep(delay)
                if status is not None:
                    self._answer(status, {"resourceType": "OperationOutcome", "issue": [
                        {"severity": "error", "code": "exception", "diagnostics": "down"}]})  # fmt: skip
                    return
                wanted = (self.headers.get("If-None-Exist") or "").removeprefix("identifier=")
                with fake._lock:
                    there = [r for r in fake.stored if wanted and wanted in _identifiers(r)]
                    if not there:
                        fake.stored.append(body)
                if fake.hold is not None:  # stored; the answer waits (a worker dies meanwhile)
                    fake.hold.wait(30)
                if there:
                    self._answer(412 if fake.duplicates_412 else 200, there[0])
                else:
                    self._answer(201, body)

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/fhir"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> FakeFhir:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.stored if r["resourceType"] == kind]


def _identifiers(resource: dict[str, Any]) -> set[str]:
    found = resource.get("identifier") or []
    found = found if isinstance(found, list) else [found]
    return {f"{i['system']}|{i['value']}" for i in found}
