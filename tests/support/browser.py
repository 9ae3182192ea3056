"""What browser tests share: the passwords, the webhook token, signing in (with two steps).

Signing in waits for each answer before the next step: a click starts a navigation and
returns at once, so reading the URL, or going to another page, right after it races the
POST (navigating away cancels it in the browser while the server may still finish it,
using up the TOTP code and leaving the browser with the old, pending session).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

# axe-core from npm (tests/e2e/package.json), injected into each page it checks.
AXE = Path(__file__).resolve().parents[1] / "e2e" / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "correct horse battery"
WEBHOOK_TOKEN = "browser-test-token"  # signs the simulated Twilio webhooks
STAFF = "nurse.kim"  # signs in with a password
ADMIN = "dr.lee"  # signs in with a password and a TOTP code (set up at the first sign-in)

# Per server and user: the authenticator secret, and the last TOTP step the app accepted
# (a code is good once: the app refuses a step at or before the last one it took).
_SECRET: dict[tuple[str, str], str] = {}
_LAST_STEP: dict[tuple[str, str], int] = {}


def _path(b: object) -> str:
    return urlparse(b.current_url).path  # type: ignore[attr-defined]


def _left(b: object, path: str, timeout: float = 15) -> str:
    """Wait until the browser is on another page than `path` (the POST was answered)."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(b, timeout).until(lambda d: _path(d) != path)
    return _path(b)


def sign_in(b: object, server: str, username: str = STAFF) -> None:
    """Sign in from the login page and land on the patients (through the second step)."""
    from selenium.webdriver.common.by import By

    b.get(f"{server}/staff/login")  # type: ignore[attr-defined]
    b.find_element(By.ID, "username").send_keys(username)  # type: ignore[attr-defined]
    b.find_element(By.ID, "password").send_keys(PASSWORD)  # type: ignore[attr-defined]
    b.find_element(By.CSS_SELECTOR, "form[action='/staff/login'] button").click()  # type: ignore[attr-defined]
    second_step(b, server, username)


def second_step(b: object, server: str, username: str = STAFF) -> None:
    """After the password was sent: set up the authenticator or give a code, as needed."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    where = _left(b, "/staff/login")
    if where == "/staff/mfa/setup":
        _enrol(b, server, username)
    elif where == "/staff/login/code":
        _give_code(b, server, username)
    try:
        WebDriverWait(b, 10).until(lambda d: _path(d).startswith("/staff/patients"))
    except Exception as exc:  # say where the sign-in stopped, and what the page said
        page = b.find_element(By.TAG_NAME, "main").text[:400]  # type: ignore[attr-defined]
        raise AssertionError(f"sign-in stopped at {b.current_url}: {page}") from exc  # type: ignore[attr-defined]


def _enrol(b: object, server: str, username: str) -> None:
    from selenium.webdriver.common.by import By

    secret = b.find_element(By.XPATH, "//p[contains(., 'Type this key')]/code").text  # type: ignore[attr-defined]
    _SECRET[server, username] = secret
    _submit_code(b, server, username, "/staff/mfa/setup")
    # The recovery codes page, shown once; then on to the page asked for.
    b.find_element(By.CSS_SELECTOR, "ul.codes ~ p a.button").click()  # type: ignore[attr-defined]


def _give_code(b: object, server: str, username: str) -> None:
    _submit_code(b, server, username, "/staff/login/code")


def _submit_code(b: object, server: str, username: str, page: str) -> None:
    """Type the code of the next unused step, as the phone shows it, and send it once.

    The app takes the current step and one either side; a step it took already is
    refused. So: the step after the last one used, and if that is more than one step
    ahead of now, wait until it is not (at most 30 s, only for back-to-back sign-ins).
    """
    import pyotp
    from selenium.webdriver.common.by import By

    key = (server, username)
    step = _LAST_STEP.get(key, -1) + 1
    while step > time.time() // 30 + 1:
        time.sleep(min(1.0, max(0.05, (step - 1) * 30 - time.time() + 0.05)))
    step = max(step, int(time.time() // 30))
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    field = b.find_element(By.ID, "code")  # type: ignore[attr-defined]
    field.send_keys(pyotp.TOTP(_SECRET[key]).at(step * 30))
    b.find_element(By.CSS_SELECTOR, f"form[action='{page}'] button").click()  # type: ignore[attr-defined]
    WebDriverWait(b, 15).until(ec.staleness_of(field))  # the answer to the POST is shown
    # Shown alerts only: every signed-in page carries the (hidden) idle-logoff notice.
    error = [e for e in b.find_elements(By.CSS_SELECTOR, "[role=alert]") if e.is_displayed()]  # type: ignore[attr-defined]
    if error or b.find_elements(By.ID, "code"):  # type: ignore[attr-defined]
        said = error[0].text if error else "(no error shown)"
        raise AssertionError(f"the code for step {step} was not taken at {b.current_url}: {said}")  # type: ignore[attr-defined]
    _LAST_STEP[key] = step


def axe_serious(b: Any) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each."""
    if not b.execute_script("return typeof window.axe !== 'undefined'"):
        b.execute_script(AXE.read_text(encoding="utf-8"))
    b.set_script_timeout(30)
    found = b.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations.map("
        "v => [v.impact, v.id, v.help, v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')]"
        ")));"
    )
    return [
        f"{i} {rule}: {text} at {where}"
        for i, rule, text, where in found
        if i in ("serious", "critical")
    ]
