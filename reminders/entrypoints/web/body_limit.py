"""Refuse request bodies past a size limit while they arrive, before anything parses them."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    """Raised from `receive` once the body passes its limit; the middleware answers 413."""


class BodyLimit:
    """Count the bytes of every request body, chunked or not, and stop at the limit.

    A declared Content-Length over the limit is refused before the app runs. Otherwise
    the app reads through a counting `receive`; past the limit that raises, whatever the
    app made of it (a form parser's 400, an error page) is dropped, and the client gets
    413. Nothing was parsed, so nothing was written: no rows, no spooled temp file
    beyond the limit.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        larger: Mapping[str, int],
        under: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.limit = limit
        self.larger = dict(larger)  # exact path -> its own limit (the CSV upload)
        self.under = dict(under or {})  # path prefix -> its own limit (Twilio's webhooks)

    def limit_for(self, scope: Scope) -> int:
        path = scope.get("path", "")
        for prefix, limit in self.under.items():
            if path.startswith(prefix):
                return limit
        return self.larger.get(path, self.limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, limit)
            return
        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                return  # the app's answer to a broken read; ours goes out below
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await _refuse(send, limit)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send: Send, limit: int) -> None:
    body = (f'{{"detail": "the request body is larger than {limit} bytes", "errors": []}}').encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
