"""SMTP email: multipart text and HTML, STARTTLS and login, a stable Message-ID per message."""

from __future__ import annotations

import smtplib
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from reminders.adapters.providers import ProviderError, Sent
from reminders.domain.retry import ErrorClass


class SmtpEmail:
    def __init__(
        self,
        *,
        host: str,
        port: int = 587,
        username: str = "",
        password: str = "",
        starttls: bool = True,
        sender: str,
        timeout: float = 20.0,
    ) -> None:
        if not sender:
            raise ValueError("set EMAIL_FROM to send email")
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.starttls, self.sender, self.timeout = starttls, sender, timeout

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
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
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
