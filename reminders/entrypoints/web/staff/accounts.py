"""Staff pages for admins: accounts (add, disable, enable, role, password, 2-step), tokens listed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from reminders.bootstrap import Container
from reminders.domain.errors import ReminderError
from reminders.domain.staff.accounts import InvalidCredentials, LoginLocked, Role, Scope, shown_name
from reminders.entrypoints.web import staff_session
from reminders.entrypoints.web.deps import AdminDep, ContainerDep, FormDep, StaffDep
from reminders.entrypoints.web.staff.pages import flash, render
from reminders.services.staff import accounts, api_tokens, second_factor, sign_in

router = APIRouter(prefix="/staff", include_in_schema=False)


@router.get("/users", response_class=HTMLResponse)
def users(request: Request, c: ContainerDep, user: AdminDep) -> Response:
    return render(request, "users.html", users_context(c, {}, {}), user=user)


# What each scope lets a token do, beside its checkbox on the accounts page.
SCOPE_HINTS = {
    Scope.ENROLL.value: "create, change and cancel enrollments",
    Scope.READ.value: "read enrollments with their patient and messages",
    Scope.FHIR.value: "post FHIR Procedures and Encounters",
    Scope.METRICS.value: "/metrics and the details of /readyz",
}


def users_context(c: Container, values: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    """The accounts page: accounts, API tokens, and the forms to add and change both."""
    return {
        "users": accounts.list_users(uow=c.uow()),
        "tokens": api_tokens.list_tokens(uow=c.uow()),
        "values": values,
        "errors": errors,
        "roles": [r.value for r in Role],
        "mfa_for_staff": c.settings.mfa_for_staff,
        "scope_hints": SCOPE_HINTS,
        "token_values": {},
        "chosen": [],
        "now": c.clock(),
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
            users_context(c, values, {field: message}),
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
            users_context(c, {}, {"form": f"{shown_name(username)}: {message}"}),
            status_code=422,
            user=user,
        )
    flash(request, done)
    return RedirectResponse("/staff/users", status_code=303)


@router.get("/account", response_class=HTMLResponse)
def my_account(request: Request, c: ContainerDep, user: StaffDep) -> Response:
    """Any signed-in user: change one's own password; see or set up two-step sign-in."""
    return render(request, "account.html", {}, user=user)


@router.post("/account/password", response_class=HTMLResponse)
def change_my_password(
    request: Request, c: ContainerDep, user: StaffDep, form: FormDep
) -> Response:
    """The current password is asked again: a session left open on a tablet is not enough."""
    new, again = str(form.get("new_password") or ""), str(form.get("new_password_again") or "")
    errors: dict[str, str] = {}
    try:
        sign_in.confirm_password(
            uow=c.uow(),
            user=user,
            password=str(form.get("current_password") or ""),
            client_addr=staff_session.client_addr(request),
            policy=staff_session.policy(c.settings),
            now=c.clock(),
        )
    except LoginLocked as exc:
        errors["current_password"] = exc.message
    except InvalidCredentials:
        errors["current_password"] = "that is not your current password"
    if new != again:
        errors["new_password_again"] = "the two new passwords differ"
    if not errors:
        try:
            accounts.set_password(
                uow=c.uow(),
                username=user.username,
                password=new,
                by=user.username,
                now=c.clock(),
                client_addr=staff_session.client_addr(request),
            )
        except ReminderError as exc:
            errors["new_password"] = exc.message
    if errors:
        return render(request, "account.html", {"errors": errors}, status_code=422, user=user)
    # Every session of this user has ended, this one too: sign in again with the new password.
    request.session.clear()
    request.state.staff_session = None
    flash(request, "Password changed. Sign in again with the new password.")
    return RedirectResponse("/staff/login", status_code=303)
