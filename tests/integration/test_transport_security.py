"""Transport and settings: verified TLS to the SMTP server, production's refusals, cookies."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from webtools import PASSWORD, add_staff, client, csrf

from reminders.adapters.providers.ports import ProviderError
from reminders.adapters.providers.smtp_email import SmtpEmail
from reminders.entrypoints.cli.main import main
from reminders.entrypoints.cli.run import is_loopback
from reminders.settings import DEV_SECRET_KEY, Settings
from support.smtp import self_signed_cert, start_tls_smtp

PROD = {
    "REMINDERS_ENVIRONMENT": "production",
    "REMINDERS_DATABASE_URL": "postgresql+psycopg://x@y/z",
    "REMINDERS_BROKER_URL": "redis://y",
    "REMINDERS_PUBLIC_URL": "https://reminders.clinic.example",
    "REMINDERS_SECRET_KEY": "k3J9_vQ2-xLw8ZpR4tYb6NcHs1MdFgUe0aWqOiEr",  # random: "k" * 40 is refused (issue 22)
    "REMINDERS_FIELD_KEY": "x" * 44,
    "TWILIO_ACCOUNT_SID": "AC1",
    "TWILIO_AUTH_TOKEN": "t",
    "REMINDERS_CLINIC_NAME": "Valley Spine",
    "REMINDERS_CLINIC_PHONE": "805-555-0100",
    "SMTP_HOST": "smtp.example.org",
    "EMAIL_FROM": "care@example.org",
}


def _mailer(controller, **kw) -> SmtpEmail:  # type: ignore[no-untyped-def]
    return SmtpEmail(
        host="127.0.0.1",
        port=controller.port,
        username="reminders",
        password="smtp-secret",
        sender="care@clinic.example",
        timeout=5,
        **kw,
    )


def _send(mailer: SmtpEmail) -> None:
    mailer.send_email(
        to="ana@example.org", subject="Day 1", text="Ice", html="<p>Ice</p>", reference="m1"
    )


@pytest.mark.parametrize("implicit", [False, True], ids=["starttls", "smtps"])
def test_a_self_signed_smtp_server_gets_neither_password_nor_email(tmp_path, implicit):
    cert, key = self_signed_cert(tmp_path)
    controller, inbox, logins = start_tls_smtp(cert, key, implicit=implicit)
    try:
        with pytest.raises(ProviderError, match="CERTIFICATE_VERIFY_FAILED"):
            _send(_mailer(controller, starttls=not implicit, implicit_tls=implicit))
        assert logins.seen == [] and inbox.messages == []
        # The same server, once the clinic trusts its CA (SMTP_CA_FILE), gets the mail:
        # the refusal above was the certificate check, not a broken connection.
        trusting = _mailer(
            controller, starttls=not implicit, implicit_tls=implicit, ca_file=str(cert)
        )
        _send(trusting)
        assert logins.seen == [(b"reminders", b"smtp-secret")]
        assert [m["To"] for m in inbox.messages] == ["ana@example.org"]
    finally:
        controller.stop()


def test_production_refuses_plain_smtp_an_http_url_and_the_development_key():
    assert Settings(**PROD).smtp_starttls  # the complete production settings are accepted
    assert Settings(**PROD, SMTP_STARTTLS="false", SMTP_SSL="true", SMTP_PORT=465).smtp_ssl
    with pytest.raises(ValueError, match="SMTP_STARTTLS=true"):
        Settings(**{**PROD, "SMTP_STARTTLS": "false"})
    with pytest.raises(ValueError, match="https:// REMINDERS_PUBLIC_URL"):
        Settings(**{**PROD, "REMINDERS_PUBLIC_URL": "http://reminders.clinic.example"})
    with pytest.raises(ValueError, match="REMINDERS_SECRET_KEY"):
        Settings(**{**PROD, "REMINDERS_SECRET_KEY": DEV_SECRET_KEY})


def test_run_refuses_a_network_host_with_the_development_key(monkeypatch):
    monkeypatch.delenv("REMINDERS_SECRET_KEY", raising=False)
    monkeypatch.setattr(
        "reminders.entrypoints.cli.run.get_settings", lambda: Settings(_env_file=None)
    )
    started = []
    monkeypatch.setattr(
        "reminders.entrypoints.cli.run.supervise", lambda *a, **k: started.append(1)
    )
    r = CliRunner().invoke(main, ["run", "--host", "0.0.0.0"])
    assert r.exit_code == 2 and started == []
    assert "REMINDERS_SECRET_KEY" in r.output and "secrets.token_urlsafe" in r.output
    assert "Traceback" not in r.output


def test_only_loopback_hosts_count_as_local():
    assert all(is_loopback(h) for h in ("127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.20", "clinic-pc"))


@pytest.mark.parametrize(
    "public_url,secure", [("https://r.clinic.example", True), ("http://127.0.0.1:8000", False)]
)
def test_the_session_cookie_is_httponly_lax_and_secure_behind_https(container, public_url, secure):
    container.settings = container.settings.model_copy(update={"public_url": public_url})
    add_staff(container)
    c = client(container)
    c.base_url = c.base_url.copy_with(
        scheme="https" if secure else "http"
    )  # as the proxy serves it
    page = c.get("/staff/login")
    r = c.post(
        "/staff/login",
        data={"username": "nurse.kim", "password": PASSWORD, "csrf_token": csrf(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert ("; secure" in cookie) is secure
