"""Staff page for admins: the audit log; and the recorder every read of patient data calls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from reminders.bootstrap import Container
from reminders.entrypoints.web import staff_session
from reminders.entrypoints.web.deps import AdminDep, ContainerDep
from reminders.entrypoints.web.pages import render
from reminders.services import audit

router = APIRouter(prefix="/staff", include_in_schema=False)


@router.get("/audit", response_class=HTMLResponse)
def audit_log(request: Request, c: ContainerDep, user: AdminDep, actor: str = "") -> Response:
    entries = audit.recent_entries(uow=c.uow(), actor=actor.strip()[:120] or None, limit=500)
    return render(request, "audit.html", {"entries": entries, "actor": actor}, user=user)


@dataclass(frozen=True)
class ReadAudit:
    """Records that a staff user or token saw patient data, with the request's address."""

    request: Request
    c: Container

    def __call__(self, *, actor: str, what: str, enrollment_id: int | None = None) -> None:
        audit.record_read(
            uow=self.c.uow(),
            actor=actor,
            what=what,
            now=self.c.clock(),
            enrollment_id=enrollment_id,
            client_addr=staff_session.client_addr(self.request),
        )


def read_audit(request: Request, c: ContainerDep) -> ReadAudit:
    return ReadAudit(request, c)


ReadAuditDep = Annotated[ReadAudit, Depends(read_audit)]


def search_read(query: str, ids: list[int]) -> str:
    """What a patient list showed: the search typed and the enrollments it listed (the first 50)."""
    shown = ", ".join(f"#{i}" for i in ids[:50]) + (" …" if len(ids) > 50 else "")
    head = f"patient search {query!r}" if query else "patient list"
    return f"{head}: {len(ids)} shown" + (f" ({shown})" if ids else "")
