"""The staff pages in a real headless Chromium against a real uvicorn on a temp SQLite."""

from __future__ import annotations

import os
import shutil

from support.browser import PASSWORD, second_step


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
    second_step(
        b, server
    )  # a staff user: the password is enough (admins: tests/support/browser.py)

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
