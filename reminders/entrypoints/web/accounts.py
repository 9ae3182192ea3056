"""Staff pages for admins: the staff accounts and API tokens, and adding an account."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from reminders.bootstrap import Container
from reminders.domain.accounts import Role
from reminders.domain.errors import ReminderError
from reminders.entrypoints.web.deps import AdminDep, ContainerDep, FormDep
from reminders.entrypoints.web.pages import flash, render
from reminders.services import accounts

router = APIRouter(prefix="/staff", include_in_schema=False)


@router.get("/users", response_class=HTMLResponse)
def users(request: Request, c: ContainerDep, user: AdminDep) -> Response:
    return render(request, "users.html", _users_context(c, {}, {}), user=user)


def _users_context(c: Container, values: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    return {
        "users": accounts.list_users(uow=c.uow()),
        "tokens": accounts.list_tokens(uow=c.uow()),
        "values": values,
        "errors": errors,
        "roles": [r.value for r in Role],
    }


@router.post("/users", response_class=HTMLResponse)
def create_user(request: Request, c: ContainerDep, user: AdminDep, form: FormDep) -> Response:
    values = {k: str(v) for k, v in form.items() if k in ("username", "full_name", "role")}
    try:
        created = accounts.create_staff_user(
            uow=c.uow(),
            username=values.get("username", ""),
            full_name=values.get("full_name", ""),
            role=Role(values.get("role") or "staff"),
            password=str(form.get("password") or ""),
            by=user.username,
            now=c.clock(),
        )
    except (ReminderError, ValueError) as exc:
        field = getattr(exc, "field", None) or "role"
        message = getattr(exc, "message", "choose staff or admin")
        return render(
            request,
            "users.html",
            _users_context(c, values, {field: message}),
            status_code=422,
            user=user,
        )
    flash(request, f"Account {created.username} created.")
    return RedirectResponse("/staff/users", status_code=303)
