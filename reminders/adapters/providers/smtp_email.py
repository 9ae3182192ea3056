"""SMTP email: multipart text and HTML, verified TLS and login, a stable Message-ID per message."""

from __future__ import annotations

import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from reminders.adapters.providers.ports import ProviderError, Sent
from reminders.domain.outbound.retry import ErrorClass


class SmtpEmail:
    def __init__(
        self,
        *,
        host: str,
        port: int = 587,
        username: str = "",
        password: str = "",
        starttls: bool = True,
        implicit_tls: bool = False,
        ca_file: str = "",
        sender: str,
        timeout: float = 20.0,
    ) -> None:
        if not sender:
            raise ValueError("set EMAIL_FROM to send email")
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.starttls, self.implicit_tls = starttls, implicit_tls
        self.ca_file, self.sender, self.timeout = ca_file, sender, timeout

    def tls_context(self) -> ssl.SSLContext:
        """Verify the server's certificate and host name (smtplib alone checks neither)."""
        return ssl.create_default_context(cafile=self.ca_file or None)

    def _connect(self) -> smtplib.SMTP:
        if self.implicit_tls:
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self.tls_context()
            )
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.starttls:
            try:
                # Raises when the server offers no STARTTLS: never fall back to plain text.
                smtp.starttls(context=self.tls_context())
            except BaseException:
                smtp.close()
                raise
        return smtp

    def build(self, *, to: str, subject: str, text: str, html: str, reference: str) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = formatdate(localtime=False)
        # The same Message-ID on a resend lets mail systems drop the duplicate.
        domain = self.sender.rsplit("@", 1)[-1].strip(">") or "reminders.local"
        msg["Message-ID"] = f"<{reference}@{domain}>" if reference else make_msgid()
        msg.set_content(text)
        msg.add_alternative(html, subtype="html")
        return msg

    def send_email(self, *, to: str, subject: str, text: str, html: str, reference: str) -> Sent:
        msg = self.build(to=to, subject=subject, text=text, html=html, reference=reference)
        try:
            with self._connect() as smtp:
                if self.username:
                    smtp.login(self.username, self.password)
                refused = smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            raise ProviderError(
                f"address refused: {exc.recipients}", error_class=ErrorClass.PERMANENT
            ) from None
        except smtplib.SMTPResponseException as exc:
            cls = ErrorClass.PERMANENT if 500 <= exc.smtp_code < 600 else ErrorClass.TRANSIENT
            raise ProviderError(
                f"SMTP {exc.smtp_code}: {exc.smtp_error!r}",
                code=str(exc.smtp_code),
                error_class=cls,
            ) from None
        except (OSError, smtplib.SMTPException) as exc:  # refused, timed out, TLS failed
            raise ProviderError(
                f"SMTP server not reachable: {exc.__class__.__name__}: {exc}",
                error_class=ErrorClass.TRANSIENT,
            ) from None
        if refused:
            raise ProviderError(f"address refused: {refused}", error_class=ErrorClass.PERMANENT)
        return Sent(provider_id=str(msg["Message-ID"]), status="sent")

    def find_sent(self, *, to: str, body: str, reference: str, since: datetime) -> list[Sent]:
        return []  # SMTP keeps no record we can ask; a resend reuses the Message-ID
