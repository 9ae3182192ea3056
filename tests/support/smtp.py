"""A real SMTP server on localhost (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

import socket
import ssl
import subprocess
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(msg)  # type: ignore[arg-type]
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_smtp() -> tuple[Controller, Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller, inbox


def self_signed_cert(folder: Path, *, name: str = "attacker.invalid") -> tuple[Path, Path]:
    """A certificate no CA signed (CN=name, valid for 127.0.0.1) and its key, made by openssl."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", f"/CN={name}",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


class Logins:
    """An authenticator that writes down every username and password it is given."""

    def __init__(self) -> None:
        self.seen: list[tuple[bytes, bytes]] = []

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        self.seen.append((bytes(data.login), bytes(data.password)))
        return AuthResult(success=True)


def start_tls_smtp(cert: Path, key: Path, *, implicit: bool) -> tuple[Controller, Inbox, Logins]:
    """An SMTP server with this certificate: STARTTLS (port 587 style) or implicit TLS (465)."""
    inbox, logins = Inbox(), Logins()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    # aiosmtpd does not count an implicit-TLS connection as TLS when offering AUTH.
    options: dict[str, Any] = {"authenticator": logins, "auth_require_tls": not implicit}
    if implicit:
        controller = Controller(
            inbox, hostname="127.0.0.1", port=free_port(), ssl_context=context, **options
        )
    else:
        controller = Controller(
            inbox,
            hostname="127.0.0.1",
            port=free_port(),
            tls_context=context,
            require_starttls=True,
            **options,
        )
    controller.start()
    return controller, inbox, logins
