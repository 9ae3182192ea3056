"""Staff sign-in (password, then a TOTP code where needed), second-factor set-up, sign-out."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from reminders.domain.staff.accounts import (
    InvalidAccount,
    InvalidCredentials,
    LoginLocked,
    StaffUser,
)
from reminders.domain.staff.sessions import StaffSession, Stage
from reminders.entrypoints.web import staff_session
from reminders.entrypoints.web.deps import ContainerDep, FormDep, LoginRequired
from reminders.entrypoints.web.staff.pages import flash, render
from reminders.services.staff import second_factor, sign_in

router = APIRouter(prefix="/staff", include_in_schema=False)

NEXT_STEP = {Stage.MFA: "/staff/login/code", Stage.ENROL: "/staff/mfa/setup"}


def _safe_next(target: str | None) -> str:
    """Only ever go back to a page of this app after signing in (no open redirect)."""
    if target and target.startswith("/staff") and "//" not in target and "\\" not in target:
        return target
    return "/staff/patients"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, c: ContainerDep, next: str | None = None) -> Response:
    if staff_session.signed_in(request, c) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "login.html", {"next": _safe_next(next), "username": ""})


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, c: ContainerDep, form: FormDep) -> Response:
    username = str(form.get("username") or "")
    target = _safe_next(str(form.get("next") or ""))
    try:
        signed = sign_in.sign_in(
            uow=c.uow(),
            username=username,
            password=str(form.get("password") or ""),
            client_addr=staff_session.client_addr(request),
            policy=staff_session.policy(c.settings),
            now=c.clock(),
        )
    except InvalidCredentials as exc:
        return render(
            request,
            "login.html",
            {"next": target, "username": username, "errors": {"password": exc.message}},
            status_code=429 if isinstance(exc, LoginLocked) else 401,
        )
    staff_session.start(request, signed.token)  # a fresh session id and CSRF token
    if signed.stage is not Stage.OK:
        # The path only: a query (a search for a patient's name) stays out of the cookie.
        request.session["next"] = target.split("?", 1)[0]
        return RedirectResponse(NEXT_STEP[signed.stage], status_code=303)
    return RedirectResponse(target, status_code=303)


def _pending(request: Request, c: ContainerDep, stage: Stage) -> tuple[StaffSession, StaffUser]:
    found = staff_session.current(request, c)
    if found is None or found[0].stage is not stage:
        raise LoginRequired("/staff/patients")
    return found


@router.get("/login/code", response_class=HTMLResponse)
def code_page(request: Request, c: ContainerDep) -> Response:
    _, user = _pending(request, c, Stage.MFA)
    return render(request, "login_code.html", {"username": user.username})


@router.post("/login/code", response_class=HTMLResponse)
def code(request: Request, c: ContainerDep, form: FormDep) -> Response:
    session, user = _pending(request, c, Stage.MFA)
    try:
        token = sign_in.second_step(
            uow=c.uow(),
            session=session,
            user=user,
            code=str(form.get("code") or ""),
            client_addr=staff_session.client_addr(request),
            policy=staff_session.policy(c.settings),
            now=c.clock(),
        )
    except InvalidCredentials as exc:
        return render(
            request,
            "login_code.html",
            {"username": user.username, "errors": {"code": exc.message}},
            status_code=429 if isinstance(exc, LoginLocked) else 401,
        )
    target = _safe_next(request.session.get("next"))
    staff_session.start(request, token)
    return RedirectResponse(target, status_code=303)


def _enrolling(request: Request, c: ContainerDep) -> tuple[StaffSession, StaffUser]:
    """A half-signed-in user who must set up a factor, or a signed-in one who has none yet."""
    found = staff_session.current(request, c)
    if found is None or found[0].stage is Stage.MFA:
        raise LoginRequired("/staff/mfa/setup")
    return found


@router.get("/mfa/setup", response_class=HTMLResponse)
def setup_page(request: Request, c: ContainerDep) -> Response:
    session, user = _enrolling(request, c)
    if user.totp_enabled:
        return render(
            request,
            "error.html",
            {
                "message": "Two-step sign-in is set up already. An admin can reset it if the phone is lost."
            },
            status_code=409,
            user=user if session.stage is Stage.OK else None,
        )
    secret, svg = second_factor.start_enrolment(uow=c.uow(), user=user, issuer=c.clinic.name)
    page = render(
        request,
        "mfa_setup.html",
        {"secret": secret, "qr_svg": svg, "required": session.stage is Stage.ENROL},
        user=user if session.stage is Stage.OK else None,
    )
    page.headers["Cache-Control"] = "no-store"  # the secret must not stay in a cache
    return page


@router.post("/mfa/setup", response_class=HTMLResponse)
def setup(request: Request, c: ContainerDep, form: FormDep) -> Response:
    session, user = _enrolling(request, c)
    shown_user = user if session.stage is Stage.OK else None
    try:
        codes = second_factor.confirm_enrolment(
            uow=c.uow(),
            user=user,
            code=str(form.get("code") or ""),
            now=c.clock(),
            client_addr=staff_session.client_addr(request),
        )
    except (InvalidCredentials, InvalidAccount) as exc:
        return render(
            request,
            "error.html",
            {"message": f"{exc.message}. Open the set-up page again for a new QR code."},
            status_code=422,
            user=shown_user,
        )
    target = "/staff/patients"
    if session.stage is Stage.ENROL:
        target = _safe_next(request.session.get("next"))
        uow = c.uow()
        with uow:
            token = sign_in.promote(
                uow,
                session=session,
                user=user,
                client_addr=staff_session.client_addr(request),
                now=c.clock(),
            )
            uow.commit()
        staff_session.start(request, token)
    page = render(request, "mfa_codes.html", {"codes": codes, "next": target}, user=shown_user)
    page.headers["Cache-Control"] = "no-store"  # shown once: not kept by the browser either
    return page


@router.post("/logout")
def logout(request: Request, c: ContainerDep, form: FormDep) -> Response:
    found = staff_session.current(request, c)
    if found is not None:
        sign_in.sign_out(
            uow=c.uow(),
            session=found[0],
            user=found[1],
            client_addr=staff_session.client_addr(request),
            now=c.clock(),
        )
    request.session.clear()
    request.state.staff_session = None
    flash(request, "You are signed out.")
    return RedirectResponse("/staff/login", status_code=303)
