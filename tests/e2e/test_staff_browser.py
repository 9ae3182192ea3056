"""The staff pages in a real headless Chromium against a real uvicorn on a temp SQLite."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PASSWORD = "correct horse battery"
CHROME_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1024,1366",  # a tablet held upright
)


def _browser_parts() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium and driver:
        return chromium, driver
    message = (
        "needs Debian's chromium and chromium-driver: apt-get install -y chromium chromium-driver"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """uvicorn serving the app the way `reminders run` does, with one staff account."""
    var = tmp_path_factory.mktemp("var")
    env = {
        **os.environ,
        "REMINDERS_ENVIRONMENT": "test",
        "REMINDERS_VAR_DIR": str(var),
        "REMINDERS_DATABASE_URL": f"sqlite:///{var / 'reminders.db'}",
    }
    env.pop("REMINDERS_BROKER_URL", None)
    subprocess.run(
        [str(BIN / "reminders"), "staff", "create", "nurse.kim", "--password-stdin"],
        input=PASSWORD + "\n",
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    port = _free_port()
    log = (var / "web.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "reminders.entrypoints.web.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=1)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail("uvicorn exited: " + (var / "web.log").read_text())
                time.sleep(0.1)
        else:
            pytest.fail("uvicorn did not answer /healthz in 10 s")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    chromium, driver_path = _browser_parts()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


def test_log_in_enroll_see_the_timeline_and_cancel(server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    b = browser
    wait = WebDriverWait(b, 10)
    b.get(f"{server}/staff")
    assert "/staff/login" in b.current_url
    b.find_element(By.ID, "username").send_keys("nurse.kim")
    b.find_element(By.ID, "password").send_keys("not the password")
    b.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    assert "not right" in b.find_element(By.ID, "login-error").text
    b.find_element(By.ID, "password").send_keys(PASSWORD)
    b.find_element(By.CSS_SELECTOR, "form[action='/staff/login'] button").click()
    wait.until(ec.url_contains("/staff/patients"))

    b.find_element(By.LINK_TEXT, "Enroll").click()
    assert b.find_element(By.ID, "timezone").get_attribute("value") == "America/Los_Angeles"
    b.find_element(By.ID, "first_name").send_keys("Ana")
    b.find_element(By.ID, "last_name").send_keys("Lopez")
    b.find_element(By.ID, "phone").send_keys("555")  # a bad number first
    b.find_element(By.ID, "email").send_keys("ana@example.org")
    sms_consent = b.find_element(By.ID, "consent_sms")
    assert not sms_consent.is_selected(), "consent must be asked, never pre-ticked"
    sms_consent.click()
    b.find_element(By.ID, "consent_email").click()
    b.find_element(By.ID, "enroll-submit").click()
    error = wait.until(ec.presence_of_element_located((By.ID, "phone-error")))
    assert "'555' is not a valid phone number" in error.text
    assert b.find_element(By.ID, "phone").get_attribute("aria-invalid") == "true"
    assert b.find_element(By.ID, "last_name").get_attribute("value") == "Lopez"  # kept
    b.save_screenshot(str(tmp_path / "enroll-error.png"))

    phone = b.find_element(By.ID, "phone")
    phone.clear()
    phone.send_keys("(805) 555-0142")
    b.find_element(By.ID, "enroll-submit").click()
    wait.until(ec.url_matches(r"/staff/patients/\d+$"))
    assert "Enrolled Ana Lopez." in b.find_element(By.CSS_SELECTOR, ".flash").text
    entries = b.find_elements(By.CSS_SELECTOR, "#timeline .entry")
    assert len(entries) >= 5
    channels = {e.get_attribute("data-channel") for e in entries}
    assert channels == {"sms", "email"}
    assert any(e.get_attribute("data-status") == "scheduled" for e in entries)
    b.save_screenshot(str(tmp_path / "timeline.png"))

    b.find_element(By.ID, "reason").send_keys("patient asked")
    b.find_element(By.ID, "cancel-enrollment").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "enrollment-status"), "cancelled"))
    statuses = {
        e.get_attribute("data-status") for e in b.find_elements(By.CSS_SELECTOR, "#timeline .entry")
    }
    assert "scheduled" not in statuses and "cancelled" in statuses

    b.find_element(By.LINK_TEXT, "Patients").click()
    b.find_element(By.ID, "q").send_keys("lopez")
    b.find_element(By.CSS_SELECTOR, "form[role=search] button").click()
    wait.until(ec.url_contains("q=lopez"))
    assert b.find_element(By.LINK_TEXT, "Ana Lopez")
    if os.environ.get("REMINDERS_KEEP_SCREENSHOTS"):
        shutil.copytree(tmp_path, os.environ["REMINDERS_KEEP_SCREENSHOTS"], dirs_exist_ok=True)


def test_api_docs_render_offline_under_the_strict_csp(server, browser):
    """Swagger UI comes from the app itself and runs under `script-src 'self'`."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    b = browser
    b.get(f"{server}/staff/login")
    if "/staff/login" in b.current_url:  # not signed in yet by the test above
        b.find_element(By.ID, "username").send_keys("nurse.kim")
        b.find_element(By.ID, "password").send_keys(PASSWORD)
        b.find_element(By.CSS_SELECTOR, "form[action='/staff/login'] button").click()
        WebDriverWait(b, 10).until(ec.url_contains("/staff/patients"))
    b.get(f"{server}/docs")
    WebDriverWait(b, 15).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, ".opblock-summary-path"))
    )
    paths = {e.text for e in b.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}
    assert "/api/v1/enrollments" in {p.replace("\u200b", "") for p in paths}
    assert "Recovery Reminders" in b.find_element(By.CSS_SELECTOR, ".info .title").text
