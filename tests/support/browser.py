"""What browser tests share: the staff password, the webhook token, signing in (two steps)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

# axe-core from npm (tests/e2e/package.json), injected into each page it checks.
AXE = Path(__file__).resolve().parents[1] / "e2e" / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "correct horse battery"
WEBHOOK_TOKEN = "browser-test-token"  # signs the simulated Twilio webhooks

# Per server: the admin's authenticator secret and the last TOTP step used (a code is
# good once, so a second sign-in in the same 30 s waits for the next code).
_SECRET: dict[str, str] = {}
_LAST_STEP: dict[str, int] = {}


def sign_in(b: object, server: str) -> None:
    """Sign in as nurse.kim (an admin: the second step is set up on the first sign-in)."""
    from selenium.webdriver.common.by import By

    b.get(f"{server}/staff/login")  # type: ignore[attr-defined]
    b.find_element(By.ID, "username").send_keys("nurse.kim")  # type: ignore[attr-defined]
    b.find_element(By.ID, "password").send_keys(PASSWORD)  # type: ignore[attr-defined]
    b.find_element(By.CSS_SELECTOR, "form[action='/staff/login'] button").click()  # type: ignore[attr-defined]
    second_step(b, server)


def second_step(b: object, server: str) -> None:
    """After the password: set up the authenticator, or give a code; land on the patients."""
    import pyotp
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    url = b.current_url  # type: ignore[attr-defined]
    if "/staff/mfa/setup" in url:
        key = "//p[contains(., 'Type this key')]/code"
        secret = b.find_element(By.XPATH, key).text  # type: ignore[attr-defined]
        _SECRET[server] = secret
        _LAST_STEP[server] = int(time.time() // 30)
        code = pyotp.TOTP(secret).now()
        b.find_element(By.ID, "code").send_keys(code)  # type: ignore[attr-defined]
        b.find_element(By.CSS_SELECTOR, "form[action='/staff/mfa/setup'] button").click()  # type: ignore[attr-defined]
        b.find_element(By.CSS_SELECTOR, "a.button").click()  # type: ignore[attr-defined]
    elif "/staff/login/code" in url:
        for _ in range(3):  # as a person would: a code refused, wait for the next and retry
            if "/staff/login/code" not in b.current_url:  # type: ignore[attr-defined]
                _password(b, server)
            step = int(time.time() // 30)
            if step <= _LAST_STEP.get(server, -1):  # a code is good once: wait for the next
                time.sleep((_LAST_STEP[server] + 1) * 30 - time.time() + 0.5)
                step = int(time.time() // 30)
            _LAST_STEP[server] = step
            code = pyotp.TOTP(_SECRET[server]).at(step * 30 + 1)
            field = b.find_element(By.ID, "code")  # type: ignore[attr-defined]
            field.clear()
            field.send_keys(code)
            field.submit()
            time.sleep(0.5)
            b.get(f"{server}/staff/patients")  # type: ignore[attr-defined]
            if "/staff/login" not in b.current_url:  # type: ignore[attr-defined]
                return  # signed in (the app may have sent us to an earlier page first)
    b.get(f"{server}/staff/patients")  # type: ignore[attr-defined]
    try:
        WebDriverWait(b, 10).until(ec.url_contains("/staff/patients"))
    except Exception as exc:  # say where the sign-in stopped
        page = b.find_element(By.TAG_NAME, "body").text[-400:]  # type: ignore[attr-defined]
        raise AssertionError(f"sign-in stopped at {b.current_url}: {page}") from exc  # type: ignore[attr-defined]


def _password(b: object, server: str) -> None:
    from selenium.webdriver.common.by import By

    b.get(f"{server}/staff/login")  # type: ignore[attr-defined]
    b.find_element(By.ID, "username").send_keys("nurse.kim")  # type: ignore[attr-defined]
    b.find_element(By.ID, "password").send_keys(PASSWORD)  # type: ignore[attr-defined]
    b.find_element(By.CSS_SELECTOR, "form[action='/staff/login'] button").click()  # type: ignore[attr-defined]


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
