"""Staff pages for admins: accounts and API tokens; add, disable, enable, role, password, 2-step."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from reminders.bootstrap import Container
from reminders.domain.accounts import Role
from reminders.domain.errors import ReminderError
from reminders.entrypoints.web import staff_session
from reminders.entrypoints.web.deps import AdminDep, ContainerDep, FormDep
from reminders.entrypoints.web.pages import flash, render
from reminders.services import accounts, second_factor

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
        "mfa_for_staff": c.settings.mfa_for_staff,
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


ACTIONS = ("disable", "enable", "role", "password", "mfa_reset")


@router.post("/users/manage", response_class=HTMLResponse)
def manage_user(request: Request, c: ContainerDep, user: AdminDep, form: FormDep) -> Response:
    """One change to one account; each is audited and ends that account's sessions where it must."""
    username = str(form.get("username") or "")
    action = str(form.get("action") or "")
    by, now, addr = user.username, c.clock(), staff_session.client_addr(request)
    try:
        if action in ("disable", "enable"):
            accounts.set_active(
                uow=c.uow(),
                username=username,
                active=action == "enable",
                by=by,
                now=now,
                client_addr=addr,
            )
            done = f"Account {username} {action}d."
            if action == "disable":
                done += " Its sessions have ended."
        elif action == "role":
            changed = accounts.set_role(
                uow=c.uow(),
                username=username,
                role=Role(str(form.get("role") or "")),
                by=by,
                now=now,
                client_addr=addr,
            )
            done = f"Account {username} is now {changed.role.value}; its sessions have ended."
        elif action == "password":
            accounts.set_password(
                uow=c.uow(),
                username=username,
                password=str(form.get("password") or ""),
                by=by,
                now=now,
                client_addr=addr,
            )
            done = f"Password changed for {username}; its sessions have ended."
        elif action == "mfa_reset":
            second_factor.reset(uow=c.uow(), username=username, by=by, now=now, client_addr=addr)
            done = f"Two-step sign-in removed for {username}; it is set up again at next sign-in."
        else:
            raise ValueError(action)
    except (ReminderError, ValueError) as exc:
        message = getattr(exc, "message", "choose one of: " + ", ".join(ACTIONS))
        return render(
            request,
            "users.html",
            _users_context(c, {}, {"form": f"{username}: {message}"}),
            status_code=422,
            user=user,
        )
    flash(request, done)
    return RedirectResponse("/staff/users", status_code=303)
