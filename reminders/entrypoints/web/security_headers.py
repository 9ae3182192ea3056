"""Security headers on every response: CSP, no framing, no referrer, nosniff, no-store."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# No inline script anywhere (pages and /docs load scripts from this origin only). Inline
# style stays allowed: the staff pages and Swagger UI use it, and style cannot run code.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
    " img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none';"
    " form-action 'self'; frame-ancestors 'none'"
)
# Pages and answers that can carry patient data: never kept by a browser or a proxy.
NO_STORE_PREFIXES = ("/staff", "/api", "/fhir", "/docs", "/openapi.json", "/metrics", "/readyz")
STATIC_PREFIX = "/docs/assets/"
HSTS = "max-age=31536000; includeSubDomains"


def headers_for(path: str, *, hsts: bool) -> dict[str, str]:
    """The headers every answer on this path carries (a crash's 500 too: see app.py)."""
    headers = {
        "Content-Security-Policy": CSP,
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    }
    if hsts:
        headers["Strict-Transport-Security"] = HSTS
    if path.startswith(NO_STORE_PREFIXES) and not path.startswith(STATIC_PREFIX):
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    return headers


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = headers_for(scope.get("path", ""), hsts=self.hsts)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in wanted.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
