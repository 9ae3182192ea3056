"""The staff session behind a request: the cookie holds only a random id; the rest is server-side."""

from __future__ import annotations

from datetime import timedelta

from fastapi import Request

from reminders.bootstrap import Container
from reminders.domain.staff.accounts import StaffUser
from reminders.domain.staff.sessions import (
    SessionPolicy,
    StaffSession,
    Stage,
    ThrottlePolicy,
    client_address,
)
from reminders.services.staff import notices, sign_in
from reminders.settings import Settings

COOKIE_KEY = "sid"  # the only thing about a signed-in user the cookie carries
# Sent by static/live.js on the requests a page makes by itself (the inbox count, the
# inbox list's refresh): they read the session but are not the person's activity.
BACKGROUND_HEADER = "x-background-refresh"


def policy(settings: Settings) -> sign_in.SignInPolicy:
    window = timedelta(minutes=settings.login_window_minutes)
    lockout = timedelta(minutes=settings.login_lockout_minutes)
    return sign_in.SignInPolicy(
        password=ThrottlePolicy(
            settings.login_max_failures,
            window,
            lockout,
            delay_cap=timedelta(seconds=settings.login_delay_cap_seconds),
        ),
        code=ThrottlePolicy(settings.mfa_max_failures, window, lockout),
        network=ThrottlePolicy(settings.login_max_failures_per_address, window, lockout),
        session=SessionPolicy(
            idle=timedelta(minutes=settings.session_idle_minutes),
            absolute=timedelta(hours=settings.session_hours),
        ),
        mfa_for_staff=settings.mfa_for_staff,
    )


def client_addr(request: Request) -> str | None:
    """The caller's IP address, or None when what arrived is not one.

    Behind the TLS proxy uvicorn takes it from X-Forwarded-For, but only from the proxies
    in FORWARDED_ALLOW_IPS (docs/security.md, "Behind a proxy"); whatever it is, only a
    valid address is used, so no typed text reaches the audit log or the throttle.
    """
    return client_address(request.client.host if request.client else None)


def background(request: Request) -> bool:
    """A request the page made by itself, not the person (see BACKGROUND_HEADER)."""
    return request.headers.get(BACKGROUND_HEADER) == "1"


def current(request: Request, c: Container) -> tuple[StaffSession, StaffUser] | None:
    """The live session of this request at any stage, looked up once per request."""
    if hasattr(request.state, "staff_session"):
        found: tuple[StaffSession, StaffUser] | None = request.state.staff_session
        return found
    token = request.session.get(COOKIE_KEY)
    found = None
    if isinstance(token, str) and token:
        found = sign_in.resolve(
            uow=c.uow(),
            token=token,
            policy=policy(c.settings).session,
            now=c.clock(),
            touch=not background(request),
        )
        # An ended id is left in the cookie, not cleared: clearing would send a Set-Cookie,
        # and a request sent before a sign-in finished (a second click on "Sign in", a
        # request in flight) would then overwrite the new session's cookie with an empty
        # one, signing the person out again. A dead id opens nothing; the next sign-in
        # replaces it.
    request.state.staff_session = found
    return found


def signed_in(request: Request, c: Container) -> StaffUser | None:
    """The user of a fully signed-in session (password and, where needed, second factor)."""
    found = current(request, c)
    if found is None or found[0].stage is not Stage.OK:
        return None
    return found[1]


def start(request: Request, token: str) -> None:
    """Put a new session id in the cookie; everything else in it (the CSRF token) starts fresh."""
    request.session.clear()
    request.session[COOKIE_KEY] = token
    if hasattr(request.state, "staff_session"):
        del request.state.staff_session


def flash(request: Request, text: str, kind: str = "ok") -> None:
    """Keep a one-time notice for the next page: with the session on the server when there is one."""
    c: Container = request.app.state.container
    found = current(request, c)
    if found is not None:
        notices.push_flash(uow=c.uow(), session=found[0], kind=kind, text=text)
    else:
        # Only generic notices are shown to someone not signed in (e.g. "You are signed out"),
        # so the cookie never carries anything about a patient.
        request.session.setdefault("flash", []).append([kind, text])


def take_flashes(request: Request) -> list[list[str]]:
    c: Container = request.app.state.container
    waiting: list[list[str]] = request.session.pop("flash", [])
    found = current(request, c)
    if found is not None and found[0].flash:
        waiting += notices.pop_flash(uow=c.uow(), session=found[0])
    return waiting
