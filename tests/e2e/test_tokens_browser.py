"""API tokens in a real Chromium: an admin creates one, reads it once, and revokes it.

Its own module: it signs in as an admin (the shared browser tests sign in as staff), so it
sets up the admin's authenticator on the first sign-in through support/browser.sign_in.
"""

from __future__ import annotations

import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from support.browser import AXE, PASSWORD, axe_serious, sign_in

ROOT = Path(__file__).resolve().parents[2]
REMINDERS = str(Path(sys.executable).parent / "reminders")
ADMIN = "dr.admin"


@pytest.fixture(scope="module")
def admin(server: str, server_env: dict[str, str], browser: Any) -> Any:
    """The browser, signed in as an admin made for this module with the CLI."""

    subprocess.run(
        [REMINDERS, "staff", "create", ADMIN, "--role", "admin", "--password-stdin"],
        input=PASSWORD + "\n",
        env=server_env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    b = browser
    b.delete_all_cookies()
    sign_in(b, server, ADMIN)  # the first sign-in sets up the authenticator
    return b


def _api(server: str, raw: str) -> int:
    """The status /api/v1 answers a read with this token."""
    request = urllib.request.Request(
        f"{server}/api/v1/enrollments/1", headers={"Authorization": f"Bearer {raw}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _axe_serious(b: Any) -> list[str]:
    if not AXE.exists():
        pytest.fail("axe-core is missing: cd tests/e2e && npm install (`.ci/run` does it)")
    return axe_serious(b)


def test_an_admin_creates_a_token_reads_it_once_and_revokes_it(server, admin):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    b = admin
    wait = WebDriverWait(b, 10)
    b.get(f"{server}/staff/users")
    assert _axe_serious(b) == []
    b.find_element(By.ID, "token_name").send_keys("dashboard")
    b.find_element(By.ID, "scope_read").click()
    b.find_element(By.CSS_SELECTOR, "form#new-token button[type=submit]").click()

    shown = wait.until(ec.presence_of_element_located((By.ID, "new-token-value")))
    raw = shown.get_attribute("value")
    assert raw.startswith("rr_") and "not shown again" in b.page_source
    assert _axe_serious(b) == []
    assert _api(server, raw) == 404  # let in (there is no enrollment 1), read scope
    assert not any(raw in str(c.get("value")) for c in b.get_cookies())

    b.find_element(By.LINK_TEXT, "Back to accounts").click()
    assert raw not in b.page_source
    row = b.find_element(By.CSS_SELECTOR, "tr[data-token='dashboard']")
    assert "read" in row.text and "active" in row.text
    row.find_element(By.LINK_TEXT, "Revoke…").click()
    assert "Revoke token dashboard?" in b.find_element(By.TAG_NAME, "h1").text
    assert _api(server, raw) == 404  # asking is not revoking
    b.find_element(By.ID, "confirm-revoke").click()
    wait.until(ec.url_contains("/staff/users"))
    assert "Token dashboard revoked" in b.find_element(By.CSS_SELECTOR, ".flash").text
    assert "revoked" in b.find_element(By.CSS_SELECTOR, "tr[data-token='dashboard']").text
    assert _api(server, raw) == 401

    b.back()  # the confirm page again, then a second submit: nothing changes
    b.refresh()
    b.find_element(By.ID, "confirm-revoke").click()
    wait.until(ec.url_contains("/staff/users"))
    assert "already revoked" in b.find_element(By.CSS_SELECTOR, ".flash").text


WIDTHS = {"phone": (390, 844), "tablet": (820, 1180), "desk": (1280, 900)}
SCREENSHOTS = ROOT / "var" / "screenshots"


def _sideways(b: Any) -> int:
    return int(
        b.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    )


def test_the_token_pages_fit_every_width_and_pass_axe(server, admin):
    from selenium.webdriver.common.by import By

    b = admin
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for device, (width, height) in WIDTHS.items():
        b.set_window_size(width, height)
        b.get(f"{server}/staff/users")
        b.find_element(By.ID, "token_name").send_keys(f"ehr-{device}")
        for scope in ("enroll", "read", "fhir", "metrics"):
            b.find_element(By.ID, f"scope_{scope}").click()
        b.find_element(By.ID, "expires").send_keys("01312099")  # the date picker, typed
        b.find_element(By.CSS_SELECTOR, "form#new-token button[type=submit]").click()
        assert b.find_element(By.ID, "new-token-value").get_attribute("value").startswith("rr_")
        pages = {
            "token-created": None,
            "accounts": f"{server}/staff/users",
            "token-revoke": f"{server}/staff/tokens/revoke?name=ehr-{device}",
        }
        for name, url in pages.items():
            if url:
                b.get(url)
            where = f"{name} at {width} px"
            assert _sideways(b) == 0, where
            assert _axe_serious(b) == [], where
            b.save_screenshot(str(SCREENSHOTS / f"{name}-{width}.png"))
    b.get(f"{server}/staff/users")
    row = b.find_element(By.CSS_SELECTOR, "tr[data-token='ehr-desk']")
    assert "enroll, fhir, metrics, read" in row.text and "2099" in row.text
