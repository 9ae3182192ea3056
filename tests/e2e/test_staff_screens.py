"""Every staff page at phone, tablet and desk widths: no sideways scrolling, no serious axe
violation, a screenshot under var/screenshots/, and what a nurse does on each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from support.browser import ADMIN, AXE, axe_serious, sign_in
from support.journey import JOSE, Seeded, seed_journey, simulate

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"
WIDTHS = {"phone": (390, 844), "tablet": (820, 1180), "desk": (1280, 900)}


@pytest.fixture(scope="module")
def seeded(server: str, server_env: dict[str, str]) -> Seeded:
    return seed_journey(server_env)


def _sideways(b: Any) -> int:
    """How many pixels the page is wider than the window (0 = no sideways scrolling)."""
    return int(
        b.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    )


def _screenshot(b: Any, name: str, width: int, height: int) -> None:
    """The whole page, as tall as it is, at this width."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tall = int(b.execute_script("return document.documentElement.scrollHeight"))
    b.set_window_size(width, min(max(tall, height), 12000))
    b.save_screenshot(str(SCREENSHOTS / f"{name}-{width}.png"))
    b.set_window_size(width, height)


def _pages(s: Seeded) -> dict[str, str]:
    return {
        "patients": "/staff/patients",
        "patients-search": "/staff/patients?q=Ramirez",
        "patient-journey": f"/staff/patients/{s.jose}",
        "patient-opted-out": f"/staff/patients/{s.luis}",
        "enroll": "/staff/enroll",
        "imports": "/staff/imports",
        "import-run": f"/staff/imports/{s.run}",
        "inbox": "/staff/inbox",
        "inbox-patient": f"/staff/inbox/patients/{s.jose}",
        "audit": "/staff/audit",  # admin pages: the test signs in as an admin
        "audit-filtered": "/staff/audit?actor=dr.lee&action=login",
        "users": "/staff/users",
        "account": "/staff/account",
        "interfaces": "/staff/interfaces",  # issue 25: the HL7 log and write-back state
        "consent-needed": "/staff/interfaces/consent",
    }


@pytest.mark.parametrize("device", list(WIDTHS))
def test_every_page_fits_passes_axe_and_is_captured(server, seeded, browser, device):
    if not AXE.exists():
        pytest.fail("axe-core is missing: cd tests/e2e && npm install (`.ci/run` does it)")
    b = browser
    width, height = WIDTHS[device]
    b.set_window_size(width, height)
    b.delete_all_cookies()
    b.get(f"{server}/staff/login")
    problems = {}
    pages = {"login": "/staff/login", **_pages(seeded)}
    for name, path in pages.items():
        if name == "patients":
            sign_in(b, server, ADMIN)  # password and TOTP code, as admins sign in
        b.get(server + path)
        found = axe_serious(b)
        if wide := _sideways(b):
            found.append(f"scrolls sideways by {wide}px")
        if found:
            problems[name] = found
        _screenshot(b, name, width, height)
    assert not problems, f"at {width}px: {problems}"


@pytest.mark.parametrize("device", list(WIDTHS))
def test_a_nurse_reads_the_journey_from_the_patient_page(server, seeded, browser, device):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    b = browser
    b.set_window_size(*WIDTHS[device])
    b.delete_all_cookies()
    sign_in(b, server)
    b.find_element(By.ID, "q").send_keys("ramirez")  # no accent, lower case
    b.find_element(By.CSS_SELECTOR, "form[role=search] button[type=submit]").click()
    WebDriverWait(b, 10).until(ec.url_contains("q=ramirez"))
    assert "1 in all" in b.find_element(By.CSS_SELECTOR, ".pager").text
    b.find_element(By.LINK_TEXT, "José Ramírez").click()
    assert "Open red flag" in b.find_element(By.ID, "banner-red-flag").text
    assert b.find_elements(By.CSS_SELECTOR, "#strip .mark.flag")  # marked on the days strip
    assert b.find_element(By.CSS_SELECTOR, "#strip .strip-now").text == "Now"
    answered = b.find_element(By.CSS_SELECTOR, ".entry .answer.flag")
    assert "“9 NO”" in answered.text and answered.is_displayed()
    entry = answered.find_element(By.XPATH, "ancestor::li[contains(@class, 'entry')]")
    assert "Check-in: pain score, day 1" in entry.text
    text = entry.find_element(By.CSS_SELECTOR, "details .message-text")
    assert not text.is_displayed()  # closed until the nurse asks
    entry.find_element(By.CSS_SELECTOR, "details summary").click()
    assert text.is_displayed() and "0" in text.text and "10" in text.text
    bounced = b.find_element(By.ID, f"m-{seeded.first_text}")
    assert bounced.get_attribute("data-status") == "undelivered"
    assert bounced.text.count("30003") == 1 and "unreachable" in bounced.text
    stamp = bounced.find_element(By.CSS_SELECTOR, ".time time")
    assert stamp.text.endswith(("PST", "PDT")) and "Clinic time" in stamp.get_attribute("title")

    b.get(f"{server}/staff/patients/{seeded.luis}")
    assert "replied STOP" in b.find_element(By.ID, "banner-opted-out").text
    assert b.find_element(By.ID, "enrollment-status").text != "active"


@pytest.mark.parametrize("device", list(WIDTHS))
def test_a_nurse_works_the_inbox_without_leaving_it(server, seeded, browser, device):
    from selenium.webdriver.common.by import By

    b = browser
    b.set_window_size(*WIDTHS[device])
    b.delete_all_cookies()
    sign_in(b, server)
    badge = b.find_element(By.ID, "inbox-count")
    assert int(badge.text) >= 2
    b.find_element(By.ID, "nav-inbox").click()
    card = b.find_element(By.CSS_SELECTOR, "#red-flags .entry")
    call = card.find_element(By.CSS_SELECTOR, "a.tel")
    # Shown as the clinic writes it (issue 27: it was E.164), dialled as E.164.
    assert call.get_attribute("href") == f"tel:{JOSE}" and call.text == "(805) 555-0142"
    name = card.find_element(By.CSS_SELECTOR, ".what a")
    assert name.text == "José Ramírez"  # the name apart from the number
    card.find_element(By.CSS_SELECTOR, "form[action$='/resolve'] button").click()  # no note
    assert b.current_url.split("#")[0] == f"{server}/staff/inbox"
    errors = b.find_elements(By.CSS_SELECTOR, ".error[role=alert]")
    assert len(errors) == 1 and "write what was done" in errors[0].text
    focused = b.switch_to.active_element
    assert (focused.get_attribute("id") or "").startswith("note-"), focused.get_attribute(
        "outerHTML"
    )[:200]  # focus on the error
    assert b.find_element(By.CSS_SELECTOR, "#texts a.tel").get_attribute("href") == (
        "tel:+18055550999"
    )
    assert "/static/live.js" in b.page_source  # the refresh: a static script, no inline JS


def test_the_inbox_refreshes_itself_without_a_reload(server, server_env, seeded, browser):
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    # The refresh replaces the list under the test's feet: a stale read is read again.
    swapped = (NoSuchElementException, StaleElementReferenceException)

    b = browser
    b.set_window_size(*WIDTHS["desk"])
    b.delete_all_cookies()
    sign_in(b, server)
    b.get(f"{server}/staff/inbox")
    before = int(b.find_element(By.ID, "inbox-count").text)
    b.execute_script("window.stillTheSamePage = true")
    simulate(server_env, "reply", "+18055550888", "Can I take a bath yet?")
    # live.js refreshes every 20 s and when the tab comes back into view; ask for the latter.
    b.execute_script("document.dispatchEvent(new Event('visibilitychange'))")
    WebDriverWait(b, 10, ignored_exceptions=swapped).until(
        lambda d: "Can I take a bath yet?" in d.find_element(By.ID, "texts").text
    )
    WebDriverWait(b, 10, ignored_exceptions=swapped).until(
        lambda d: int(d.find_element(By.ID, "inbox-count").text) == before + 1
    )
    assert b.execute_script("return window.stillTheSamePage") is True


def test_the_first_wrong_field_gets_the_focus(server, browser):
    from selenium.webdriver.common.by import By

    b = browser
    b.set_window_size(*WIDTHS["phone"])
    b.delete_all_cookies()
    sign_in(b, server)
    b.get(f"{server}/staff/enroll")
    b.find_element(By.ID, "enroll-submit").click()
    first = b.find_element(By.CSS_SELECTOR, "[aria-invalid=true]")
    assert b.switch_to.active_element == first
    assert axe_serious(b) == [] and _sideways(b) == 0
    _screenshot(b, "enroll-errors", *WIDTHS["phone"])


def test_the_accessibility_check_sees_what_it_should(browser):
    """The check itself can fail: an unlabelled field and faint text are reported."""
    b = browser
    b.set_window_size(*WIDTHS["phone"])
    b.get(
        "data:text/html,<html lang=en><title>t</title><main><input type=text>"
        "<p style='color:%23aaa;background:%23fff'>faint</p><div style='width:900px'>x</div></main>"
    )
    found = " ".join(axe_serious(b))
    assert "label" in found and "color-contrast" in found
    assert _sideways(b) > 0


@pytest.mark.parametrize("device", list(WIDTHS))
def test_every_open_red_flag_is_in_sight(server, seeded, browser, device):
    """Two open red flags (a 9 to the check-in, and a text about his legs) on the list, in
    the header, on the day strip and on the pain chart, at each width."""
    from selenium.webdriver.common.by import By

    b = browser
    width, height = WIDTHS[device]
    b.set_window_size(width, height)
    b.get(f"{server}/healthz")  # on the app's own origin, whatever the last test left open
    b.delete_all_cookies()
    sign_in(b, server)
    b.get(f"{server}/staff/patients?q=ramirez")
    flag = b.find_element(By.CSS_SELECTOR, "#patients a.pill.trouble")
    assert flag.text == "⚑ 2 open red flags" and flag.is_displayed()
    flag.click()
    assert b.find_element(By.ID, "summary-red-flags").text == "⚑ 2 open red flags"
    banners = b.find_elements(By.CSS_SELECTOR, "#banner-red-flag .banner")
    assert len(banners) == 2 and any("legs" in x.text for x in banners)
    marks = b.find_elements(By.CSS_SELECTOR, "#strip .mark.flag")
    assert len(marks) == 2  # the answer on its message, the free text on its day
    assert any(m.get_attribute("href").split("#")[1].startswith("red-flag-") for m in marks)
    chart = b.find_element(By.ID, "pain-trend")
    assert chart.find_elements(By.CSS_SELECTOR, "circle.answer")  # the 9, a real check-in
    assert chart.find_elements(By.CSS_SELECTOR, "path.red-flag.free")  # the text
    assert "2 red flags" in chart.find_element(By.ID, "pain-chart-desc").get_attribute(
        "textContent"
    )
    assert not axe_serious(b) and not _sideways(b)
    _screenshot(b, "red-flags", width, height)


@pytest.mark.parametrize("device", list(WIDTHS))
def test_the_enroll_forms_time_follows_the_patients_zone(server, browser, device):
    """The pre-filled procedure time is now in the zone the nurse picks from the list."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from selenium.webdriver.common.by import By

    b = browser
    b.set_window_size(*WIDTHS[device])
    b.get(f"{server}/healthz")
    b.delete_all_cookies()
    sign_in(b, server)
    b.get(f"{server}/staff/enroll")
    options = b.find_elements(By.CSS_SELECTOR, "#zones option[value='Pacific/Honolulu']")
    assert options and options[0].get_attribute("label") == "Honolulu, United States"
    zone = b.find_element(By.ID, "timezone")
    zone.clear()
    zone.send_keys("Pacific/Honolulu")
    shown = b.find_element(By.ID, "performed_at").get_attribute("value")
    there = datetime.now(UTC).astimezone(ZoneInfo("Pacific/Honolulu"))
    assert abs(datetime.fromisoformat(shown) - there.replace(tzinfo=None)).total_seconds() < 120
    assert b.find_element(By.ID, "performed_at_zone").get_attribute("value") == "Pacific/Honolulu"
    assert not axe_serious(b) and not _sideways(b)
