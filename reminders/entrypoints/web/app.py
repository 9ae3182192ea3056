"""The FastAPI app factory: `uvicorn --factory reminders.entrypoints.web.app:create_app`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import Response
from starlette.routing import Match
from starlette.staticfiles import StaticFiles

from reminders.bootstrap import Container, bootstrap
from reminders.domain.errors import (
    EnrollmentClosed,
    EnrollmentNotFound,
    InvalidEnrollment,
    ReminderError,
)
from reminders.domain.staff.accounts import NotAllowed
from reminders.entrypoints.logs import install_phi_filter
from reminders.entrypoints.web import health
from reminders.entrypoints.web.api import api, fhir, webhooks
from reminders.entrypoints.web.api.api_docs import add_docs
from reminders.entrypoints.web.body_limit import BodyLimit
from reminders.entrypoints.web.deps import BadCsrf, Forbidden, LoginRequired
from reminders.entrypoints.web.security_headers import SecurityHeaders, headers_for
from reminders.entrypoints.web.staff import (
    accounts,
    audit,
    auth,
    caregivers,
    enroll,
    imports,
    inbox,
    interfaces,
    outcomes,
    patient_actions,
    patients,
    tokens,
)
from reminders.entrypoints.web.staff.pages import make_templates, render
from reminders.entrypoints.web.tcp_nodelay import no_delay_on_server_sockets

log = logging.getLogger(__name__)

DESCRIPTION = """Enroll patients after a procedure and follow their care messages.

Authenticate with an API token (`reminders token create NAME --scope ...`) sent as
`Authorization: Bearer <token>`; each route needs its scope (`enroll`, `read`, `fhir`,
`metrics`). A staff session cookie is not accepted here. Errors come back as
`{"detail": ..., "errors": [{"field": ..., "message": ...}]}`; a wrong field is a 422."""


def create_app(container: Container | None = None) -> FastAPI:
    """Build the web app on a container (by default, one wired from the environment)."""
    install_phi_filter()
    no_delay_on_server_sockets()  # uvicorn --workers N: see tcp_nodelay.py
    container = container or bootstrap()
    settings = container.settings
    app = FastAPI(
        title="Recovery Reminders",
        version="1",
        description=DESCRIPTION,
        openapi_url=None,  # served below, behind a login or token like every other route
        docs_url=None,
        redoc_url=None,
    )
    app.state.container = container
    app.state.templates = make_templates(settings.templates_dir)
    app.state.metrics = health.metrics_registry(container)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="reminders_session",
        # No Max-Age: the cookie goes when the browser closes (a shared tablet). How long
        # a session may last is the server's rule (staff_sessions: idle and lifetime).
        max_age=None,
        same_site="lax",
        https_only=settings.public_url.startswith("https://"),
    )
    staff_pages = (
        patients.router,
        patient_actions.router,
        caregivers.router,
        enroll.router,
        imports.router,
        accounts.router,
        tokens.router,
        audit.router,
        interfaces.router,
    )
    for router in (health.router, auth.router, *staff_pages, api.router, fhir.router):
        app.include_router(router)
    app.include_router(webhooks.router)  # signed by Twilio, no login
    app.include_router(inbox.router)
    app.include_router(outcomes.router)
    # The staff pages' stylesheet and script: files of the package, no CDN, no build step.
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    add_docs(app)
    _add_error_handlers(app)
    # Added last, so outermost: a body is counted before the session or any route sees
    # it, and every answer (a 413 included) carries the security headers.
    app.add_middleware(
        BodyLimit,
        limit=settings.max_body_bytes,
        larger={"/staff/imports": settings.max_upload_bytes},
        # Counted as it arrives, so a chunked body (no Content-Length) meets it too.
        under={"/webhooks/": webhooks.MAX_BODY},
    )
    app.add_middleware(SecurityHeaders, hsts=settings.environment == "production")
    return app


def _errors(detail: str, errors: list[dict[str, Any]], status_code: int) -> JSONResponse:
    return JSONResponse({"detail": detail, "errors": errors}, status_code=status_code)


def _is_page(request: Request) -> bool:
    return request.url.path.startswith("/staff")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route takes at this path (Starlette names only the first route's)."""
    allowed = []
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if _is_page(request):
            return render(
                request, "error.html", {"message": "There is no such page."}, status_code=404
            )
        errors = []
        for e in exc.errors():
            loc = [str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path")]
            errors.append({"field": ".".join(loc) or None, "message": str(e.get("msg", ""))})
        return _errors("the request has invalid fields", errors, 422)

    @app.exception_handler(ReminderError)
    async def domain_error(request: Request, exc: ReminderError) -> Response:
        if isinstance(exc, InvalidEnrollment):
            errors = [{"field": f, "message": m} for f, m in exc.errors.items()]
            return _errors("the request has invalid fields", errors, 422)
        code = 422
        if isinstance(exc, EnrollmentNotFound):
            code = 404
        elif isinstance(exc, EnrollmentClosed):
            code = 409
        elif isinstance(exc, NotAllowed):
            code = 403
        return _errors(exc.message, [{"field": exc.field, "message": exc.message}], code)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_page(request) and exc.status_code == 404:
            return render(
                request, "error.html", {"message": "There is no such page."}, status_code=404
            )
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return JSONResponse(
            {"detail": str(exc.detail), "errors": []},
            status_code=exc.status_code,
            headers=headers or None,
        )

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/staff/login?next={quote(exc.next_url)}", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return render(
            request,
            "error.html",
            {"message": "Only an admin can open this page."},
            status_code=403,
        )

    @app.exception_handler(BadCsrf)
    async def bad_csrf(request: Request, exc: BadCsrf) -> Response:
        return render(
            request,
            "error.html",
            {
                "message": "This form had expired (or came from another site)."
                " Go back, reload the page and try again."
            },
            status_code=400,
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # Starlette answers a crash outside every middleware, SecurityHeaders included:
        # the headers are set here, so a 500 is framed and cached no more than any page.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        answer: Response = PlainTextResponse("internal error; it has been logged", status_code=500)
        if _is_page(request):
            try:
                answer = render(
                    request,
                    "error.html",
                    {"message": "Something went wrong on our side; it has been logged. Try again."},
                    status_code=500,
                )
            except Exception:  # the database is what failed: the page itself cannot be drawn
                log.exception("the error page could not be drawn either")
        hsts = request.app.state.container.settings.environment == "production"
        answer.headers.update(headers_for(request.url.path, hsts=hsts))
        return answer
