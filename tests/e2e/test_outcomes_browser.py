"""The outcomes page and the patient's pain chart in headless Chromium at three widths:
a phone, a tablet held upright and a desktop; nothing runs off the side, the charts draw."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from integration import rows
from sqlalchemy import insert

from reminders.adapters.db.engine import make_engine
from reminders.adapters.db.orm import checkin_answers
from reminders.bootstrap import bootstrap
from reminders.domain.enrollment.commands import EnrollPatient, GiveConsent
from reminders.domain.model import Channel
from reminders.services.enrollments import enrollment as enroll_svc
from reminders.settings import Settings
from support.browser import sign_in

WIDTHS = (375, 768, 1280)


@pytest.fixture(scope="module")
def patient_id(server, tmp_path_factory: pytest.TempPathFactory) -> int:
    """A patient eight days after the procedure with pain answers, a gap and a red flag."""
    # The server fixture's database: the newest under this session's temp folder.
    found = Path(tmp_path_factory.getbasetemp()).glob("var*/reminders.db")
    db = max(found, key=lambda p: p.stat().st_mtime)
    url = f"sqlite:///{db}"
    c = bootstrap(Settings(REMINDERS_DATABASE_URL=url, REMINDERS_VAR_DIR=str(db.parent)))
    performed = datetime.now(UTC) - timedelta(days=8)
    cmd = EnrollPatient(
        first_name="Rosa", last_name="Diaz", phone="+18055550161", procedure="kyphoplasty",
        performed_at=performed, timezone="America/Los_Angeles",
        consents=(GiveConsent(Channel.SMS),), enrolled_by="nurse.kim",
    )  # fmt: skip
    eid = enroll_svc.enroll(
        cmd, uow=c.uow(), planning=c.planning, now=datetime.now(UTC), via="test"
    )
    e = eid.enrollment.id
    assert e is not None
    engine = make_engine(url)
    with engine.begin() as conn:
        for day, pain, flag in ((1, 3, False), (2, 4, False), (4, None, False), (6, 8, True)):
            asked = performed + timedelta(days=day)
            cid = rows.checkin(
                conn, e, phone="+18055550161", asked_at=asked,
                status="no_answer" if pain is None else "answered",
            )  # fmt: skip
            if pain is not None:
                iid = rows.inbound(
                    conn, enrollment_id=e, from_phone="+18055550161", received_at=asked
                )
                conn.execute(
                    insert(checkin_answers).values(
                        checkin_id=cid, enrollment_id=e, inbound_id=iid, kind="pain",
                        answer=str(pain), pain=pain, red_flag=flag, answered_at=asked,
                    )
                )  # fmt: skip
    return e


def _login(b, url: str) -> None:  # type: ignore[no-untyped-def]

    b.get(f"{url}/staff/outcomes")
    if "/staff/login" in b.current_url:
        sign_in(b, url)


def _fits(b) -> None:  # type: ignore[no-untyped-def]
    overflow = b.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the page runs {overflow}px off the side"


@pytest.mark.parametrize("width", WIDTHS)
def test_outcomes_and_pain_chart_at_three_widths(server, browser, patient_id, width, tmp_path):
    from selenium.webdriver.common.by import By

    b = browser
    b.set_window_size(width, 1000)
    _login(b, server)
    b.get(f"{server}/staff/outcomes")
    assert b.find_element(By.TAG_NAME, "h1").text == "Outcomes"
    charts = b.find_elements(By.CSS_SELECTOR, "figure.chart svg[role=img]")
    assert len(charts) >= 3 and all(c.size["width"] > 0 for c in charts)
    table = {
        r.find_element(By.TAG_NAME, "th").text: r.find_element(By.TAG_NAME, "td").text
        for r in b.find_elements(By.CSS_SELECTOR, "#outcomes-table tbody tr")
    }
    assert table["Patients enrolled"] == "1" and table["Check-in response rate"] == "75.0%"
    assert (
        b.find_element(By.ID, "csv")
        .get_attribute("href")
        .startswith(f"{server}/staff/outcomes.csv?")
    )
    _fits(b)
    b.save_screenshot(str(tmp_path / f"outcomes-{width}.png"))

    b.get(f"{server}/staff/patients/{patient_id}")
    chart = b.find_element(By.CSS_SELECTOR, "#pain-trend svg[role=img]")
    assert chart.size["width"] > 0
    assert len(b.find_elements(By.CSS_SELECTOR, "#pain-trend polyline")) == 2
    assert len(b.find_elements(By.CSS_SELECTOR, "#pain-table tbody tr")) == 4
    _fits(b)
    b.find_element(By.ID, "pain-trend").screenshot(str(tmp_path / f"pain-{width}.png"))
    if os.environ.get("REMINDERS_KEEP_SCREENSHOTS"):
        shutil.copytree(tmp_path, os.environ["REMINDERS_KEEP_SCREENSHOTS"], dirs_exist_ok=True)
