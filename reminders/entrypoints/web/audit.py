"""Staff page for admins: the audit log, newest first, optionally for one actor."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from reminders.entrypoints.web.deps import AdminDep, ContainerDep
from reminders.entrypoints.web.pages import render
from reminders.services import audit

router = APIRouter(prefix="/staff", include_in_schema=False)


@router.get("/audit", response_class=HTMLResponse)
def audit_log(request: Request, c: ContainerDep, user: AdminDep, actor: str = "") -> Response:
    entries = audit.recent_entries(uow=c.uow(), actor=actor.strip()[:120] or None, limit=500)
    return render(request, "audit.html", {"entries": entries, "actor": actor}, user=user)
