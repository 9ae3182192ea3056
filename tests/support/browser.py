"""What browser tests share: the staff password, the webhook token, signing in."""

from __future__ import annotations

PASSWORD = "correct horse battery"
WEBHOOK_TOKEN = "browser-test-token"  # signs the simulated Twilio webhooks


def sign_in(b: object, server: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    b.get(f"{server}/staff/login")  # type: ignore[attr-defined]
    b.find_element(By.ID, "username").send_keys("nurse.kim")  # type: ignore[attr-defined]
    b.find_element(By.ID, "password").send_keys(PASSWORD)  # type: ignore[attr-defined]
    b.find_element(By.CSS_SELECTOR, "form[action='/staff/login'] button").click()  # type: ignore[attr-defined]
    WebDriverWait(b, 10).until(ec.url_contains("/staff/patients"))
