"""CSV files for import tests, and the steps of an import: upload a file, run the worker."""

from __future__ import annotations

from sqlalchemy import func, select
from webtools import csrf

from reminders.services.enrollments import intake

GOOD_AND_BAD = """\ufefffirst_name,last_name,phone,email,procedure,performed_at,timezone,language,levels,overnight,external_id,sms_consent,email_consent
Ana,Lopez,(805) 555-0142,ana@example.org,kyphoplasty,2026-03-07 23:30,,es,2,yes,EHR-1,verbal,written
Bo,Li,555,,kyphoplasty,2026-03-07 20:00,,,,,EHR-2,verbal,
Cy,Diaz,805-555-0177,,appendectomy,2026-03-07 20:00,,,,,EHR-3,verbal,
Di,Park,,di@example.org,vertebroplasty,03/07/2026 18:15,America/Chicago,,1,no,,,written
Ed,Ng,805-555-0188,,kyphoplasty,someday,,,,,EHR-5,verbal,
"""


def run_worker(container, run_id):
    """What the reminders.import_csv task does, called directly (no broker, no eager mode)."""
    return intake.run_import(
        run_id,
        uow=container.uow(),
        planning=container.planning,
        clock=container.clock,
        default_timezone=container.settings.clinic_timezone,
    )


def upload(c, text, name="clinic.csv"):
    page = c.get("/staff/imports")
    return c.post(
        "/staff/imports",
        data={"csrf_token": csrf(page.text)},
        files={"file": (name, text.encode(), "text/csv")},
        follow_redirects=False,
    )


def count(engine, table):
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(table))
