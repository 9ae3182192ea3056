"""Shared request dependencies: the container, the signed-in staff user, API tokens, CSRF."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import FormData

from reminders.bootstrap import Container
from reminders.domain.staff.accounts import ApiToken, Scope, StaffUser
from reminders.entrypoints.web import staff_session
from reminders.services.staff import api_tokens

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="An API token from `reminders token create NAME`, sent as `Authorization: Bearer rr_...`.",
)


# Row ids are 32-bit integers in both databases; a larger number names nothing.
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]


class LoginRequired(Exception):
    """Raised by page dependencies; the app answers with a redirect to the login page."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


class Forbidden(Exception):
    """The signed-in user's role does not allow the page."""


class BadCsrf(Exception):
    """A form came without this session's CSRF token (a stale tab, or another site)."""


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


def session_user(request: Request, c: Container) -> StaffUser | None:
    """Return the active staff user of this session, if any (checked server-side each request)."""
    return staff_session.signed_in(request, c)


def current_staff(request: Request, c: ContainerDep) -> StaffUser:
    """The signed-in staff user; anyone else is sent to the login page."""
    user = session_user(request, c)
    if user is None:
        # The path only: a query can hold a patient's name (a search), and `next=` lands in
        # the browser's history and the proxy's log.
        raise LoginRequired(request.url.path)
    return user


StaffDep = Annotated[StaffUser, Depends(current_staff)]


def current_admin(user: StaffDep) -> StaffUser:
    if not user.is_admin:
        raise Forbidden()
    return user


AdminDep = Annotated[StaffUser, Depends(current_admin)]


def _bearer_token(c: Container, credentials: HTTPAuthorizationCredentials | None) -> ApiToken:
    """The live token of a request; 401 without one (a staff cookie is not enough)."""
    if credentials is not None:
        token = api_tokens.token_for(uow=c.uow(), raw=credentials.credentials, now=c.clock())
        if token is not None:
            return token
    # Bearer only: a browser sends the staff cookie by itself, so accepting it here would
    # let any site that a signed-in nurse visits post to the API (CSRF).
    raise HTTPException(
        status_code=401,
        detail="send a valid API token as `Authorization: Bearer <token>`",
        headers={"WWW-Authenticate": "Bearer"},
    )


def scoped_token(scope: Scope) -> Callable[..., ApiToken]:
    """A dependency: the caller's live token, which must hold `scope` (403 saying which, if not).

    It runs before the route reads its body or any row, so a token without the scope
    learns nothing, not even whether an enrollment exists.
    """

    def checked(
        c: ContainerDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> ApiToken:
        token = _bearer_token(c, credentials)
        if not token.allows(scope):
            held = ", ".join(sorted(s.value for s in token.scopes))
            raise HTTPException(
                status_code=403,
                detail=f"this token lacks the `{scope.value}` scope (it has: {held});"
                f" create one with `reminders token create NAME --scope {scope.value}`",
            )
        return token

    return checked


def token_caller(scope: Scope) -> Callable[..., str]:
    """A dependency: who the caller is (its token's actor), once its token holds `scope`."""
    checked = scoped_token(scope)

    def caller(token: ApiToken = Depends(checked)) -> str:  # noqa: B008 (a local: no Annotated)
        return token.actor

    return caller


EnrollToken = Annotated[ApiToken, Depends(scoped_token(Scope.ENROLL))]
EnrollCaller = Annotated[str, Depends(token_caller(Scope.ENROLL))]
ReadCaller = Annotated[str, Depends(token_caller(Scope.READ))]
FhirCaller = Annotated[str, Depends(token_caller(Scope.FHIR))]
MetricsCaller = Annotated[str, Depends(token_caller(Scope.METRICS))]


def optional_token(
    c: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> ApiToken | None:
    """The live token of a request, if it carries one (for answers that say more to one)."""
    if credentials is None:
        return None
    try:
        return api_tokens.token_for(uow=c.uow(), raw=credentials.credentials, now=c.clock())
    except SQLAlchemyError:
        return None  # the database is down: /readyz must still say "not ready", not 500


def docs_reader(
    request: Request,
    c: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> str:
    """The API's description is for staff and token holders; it reads nothing of patients."""
    if credentials is None and (user := session_user(request, c)) is not None:
        return user.username
    return _bearer_token(c, credentials).actor


def csrf_token(request: Request) -> str:
    """This session's CSRF token, made on first use; every form posts it back."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matches the session's."""
    form = await request.form()
    sent = form.get("csrf_token")
    expected = request.session.get("csrf")
    if not isinstance(sent, str) or not isinstance(expected, str):
        raise BadCsrf()
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        raise BadCsrf()
    return form


FormDep = Annotated[FormData, Depends(checked_form)]
