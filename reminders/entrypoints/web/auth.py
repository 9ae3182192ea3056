"""Staff sign-in and sign-out with a session cookie; forms carry a CSRF token."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from reminders.domain.accounts import InvalidCredentials
from reminders.entrypoints.web.deps import ContainerDep, FormDep, session_user
from reminders.entrypoints.web.pages import flash, render
from reminders.services import accounts

router = APIRouter(prefix="/staff", include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only ever go back to a page of this app after signing in (no open redirect)."""
    if target and target.startswith("/staff") and "//" not in target and "\\" not in target:
        return target
    return "/staff/patients"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, c: ContainerDep, next: str | None = None) -> Response:
    if session_user(request, c) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "login.html", {"next": _safe_next(next), "username": ""})


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, c: ContainerDep, form: FormDep) -> Response:
    username = str(form.get("username") or "")
    target = _safe_next(str(form.get("next") or ""))
    try:
        user = accounts.authenticate(
            uow=c.uow(), username=username, password=str(form.get("password") or ""), now=c.clock()
        )
    except InvalidCredentials as exc:
        return render(
            request,
            "login.html",
            {"next": target, "username": username, "errors": {"password": exc.message}},
            status_code=401,
        )
    request.session.clear()  # a fresh session (and CSRF token) for the signed-in user
    request.session.update({"uid": user.id, "uname": user.username})
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
def logout(request: Request, form: FormDep) -> Response:
    request.session.clear()
    flash(request, "You are signed out.")
    return RedirectResponse("/staff/login", status_code=303)
