"""The staff app for browser tests: a real uvicorn on a temp SQLite, and headless Chromium."""

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

from support.browser import ADMIN, PASSWORD, STAFF, WEBHOOK_TOKEN

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CHROME_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",  # screenshots and widths without a scrollbar's pixels
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
def server_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of the served app (and of the CLI commands a test runs against it)."""
    var = tmp_path_factory.mktemp("var")
    port = _free_port()
    env = {
        **os.environ,
        "REMINDERS_ENVIRONMENT": "test",
        "REMINDERS_VAR_DIR": str(var),
        "REMINDERS_DATABASE_URL": f"sqlite:///{var / 'reminders.db'}",
        "REMINDERS_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "TWILIO_AUTH_TOKEN": WEBHOOK_TOKEN,
        "REMINDERS_TEST_PORT": str(port),
    }
    env.pop("REMINDERS_BROKER_URL", None)
    env.pop("TWILIO_ACCOUNT_SID", None)  # texts go to the outbox, never to Twilio
    return env


@pytest.fixture(scope="module")
def server(server_env: dict[str, str]) -> Iterator[str]:
    """uvicorn serving the app the way `reminders run` does, with a staff user and an admin.

    The staff user signs in with a password; the admin also sets up the authenticator at
    the first sign-in and gives a TOTP code at each one after (tests/support/browser.py).
    """
    env = server_env
    var = Path(env["REMINDERS_VAR_DIR"])
    for username, role in ((STAFF, "staff"), (ADMIN, "admin")):
        subprocess.run(
            [
                str(BIN / "reminders"),
                "staff",
                "create",
                username,
                "--role",
                role,
                "--password-stdin",
            ],
            input=PASSWORD + "\n",
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
    port = env["REMINDERS_TEST_PORT"]
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
            port,
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = env["REMINDERS_PUBLIC_URL"]
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
