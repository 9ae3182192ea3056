"""Staff pages for CSV imports: upload a file, follow its run, read the per-row report."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from reminders.bootstrap import Container
from reminders.domain.errors import ReminderError
from reminders.entrypoints.web.deps import ContainerDep, FormDep, Id, StaffDep
from reminders.entrypoints.web.staff.audit import ReadAuditDep, list_read
from reminders.entrypoints.web.staff.pages import render
from reminders.services.enrollments import intake
from reminders.services.enrollments.csv_rows import OPTIONAL, REQUIRED, CsvRow, read_csv
from reminders.services.enrollments.rejected_csv import rejected_csv

router = APIRouter(prefix="/staff", include_in_schema=False)
MAX_UPLOAD = 5 * 1024 * 1024


@router.get("/imports", response_class=HTMLResponse)
def imports(request: Request, c: ContainerDep, user: StaffDep) -> Response:
    return render(request, "imports.html", _imports_context(c, None), user=user)


def _imports_context(c: Container, error: str | None) -> dict[str, Any]:
    return {
        "runs": intake.recent_imports(uow=c.uow()),
        "columns": REQUIRED + OPTIONAL,
        "required": REQUIRED,
        "errors": {"file": error} if error else {},
    }


@router.post("/imports", response_class=HTMLResponse)
async def upload(
    request: Request,
    c: ContainerDep,
    user: StaffDep,
    form: FormDep,
) -> Response:
    upload = form.get("file")
    error = None
    rows: list[CsvRow] = []
    if not isinstance(upload, UploadFile) or not upload.filename:
        error = "choose a CSV file to upload"
    else:
        data = await upload.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            error = "the file is larger than 5 MB; split it"
        else:
            try:
                rows = read_csv(data)
            except ReminderError as exc:
                error = exc.message
    if error or not isinstance(upload, UploadFile):
        return render(
            request, "imports.html", _imports_context(c, error), status_code=422, user=user
        )
    run_id = intake.start_import(
        uow=c.uow(),
        filename=upload.filename or "upload.csv",
        rows=rows,
        by=user.username,
        now=c.clock(),
    )
    # The rows are stored and committed: a worker enrolls them, and a restart loses none.
    c.send_task("reminders.import_csv", run_id)
    return RedirectResponse(f"/staff/imports/{run_id}", status_code=303)


@router.get("/imports/{run_id}", response_class=HTMLResponse)
def import_run(
    request: Request, run_id: Id, c: ContainerDep, user: StaffDep, reads: ReadAuditDep
) -> Response:
    try:
        run, rows = intake.import_report(uow=c.uow(), run_id=run_id)
    except ReminderError as exc:
        return render(request, "error.html", {"message": exc.message}, status_code=404, user=user)
    ids = [r["enrollment_id"] if isinstance(r["enrollment_id"], int) else None for r in rows]
    reads(actor=user.username, what=list_read(f"import #{run_id} report", len(rows), ids))
    return render(request, "import_run.html", {"run": run, "rows": rows}, user=user)


@router.get("/imports/{run_id}/rejected.csv")
def rejected_rows(
    request: Request, run_id: Id, c: ContainerDep, user: StaffDep, reads: ReadAuditDep
) -> Response:
    """The rejected rows to fix in a spreadsheet and upload again."""
    try:
        text = rejected_csv(uow=c.uow(), run_id=run_id)
    except ReminderError as exc:
        return render(request, "error.html", {"message": exc.message}, status_code=404, user=user)
    rejected = len(list(csv.reader(io.StringIO(text)))) - 1  # the rows under the header
    reads(actor=user.username, what=f"import #{run_id} rejected rows CSV: {rejected} row(s)")
    return PlainTextResponse(
        text,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="import-{run_id}-rejected.csv"',
            "Cache-Control": "no-store",  # patient names: not kept in shared caches
        },
    )
