"""Staff pages for admins: API tokens; create one (its secret shown once), revoke with a confirm."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from reminders.domain.errors import ReminderError
from reminders.domain.planning.timing import zone_named
from reminders.domain.staff.accounts import parse_expiry, parse_scopes, scopes_text
from reminders.entrypoints.web import staff_session
from reminders.entrypoints.web.deps import AdminDep, ContainerDep, FormDep
from reminders.entrypoints.web.staff.accounts import users_context
from reminders.entrypoints.web.staff.pages import flash, render
from reminders.services.staff import api_tokens

router = APIRouter(prefix="/staff/tokens", include_in_schema=False)

# The service names a token's fields as the CLI does; the accounts page has its own ids.
FIELDS = {"name": "token_name", "username": "token_name", "scope": "scope", "expires": "expires"}


@router.post("", response_class=HTMLResponse)
def create_token(request: Request, c: ContainerDep, user: AdminDep, form: FormDep) -> Response:
    """Create a token and show its secret on this response only: never stored, never flashed."""
    values = {"token_name": str(form.get("token_name") or ""), "expires": ""}
    values["expires"] = str(form.get("expires") or "").strip()
    chosen = [str(s) for s in form.getlist("scope")]
    now = c.clock()
    try:
        scopes = parse_scopes(" ".join(chosen))
        # A date from the picker: the token stops at the start of that day, clinic time.
        zone = zone_named(c.settings.clinic_timezone)
        until = parse_expiry(values["expires"], now=now, zone=zone) if values["expires"] else None
        token, raw = api_tokens.create_api_token(
            uow=c.uow(),
            name=values["token_name"],
            by=user.username,
            now=now,
            scopes=scopes,
            expires_at=until,
            client_addr=staff_session.client_addr(request),
        )
    except ReminderError as exc:
        errors = {FIELDS.get(exc.field or "", "token_name"): exc.message}
        context = users_context(c, {}, errors) | {"token_values": values, "chosen": chosen}
        return render(request, "users.html", context, status_code=422, user=user)
    response = render(
        request,
        "token_created.html",
        {"token": token, "raw": raw, "scopes": scopes_text(token.scopes)},
        user=user,
    )
    # The secret is in this page alone: no browser or proxy may keep a copy of it.
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/revoke", response_class=HTMLResponse)
def confirm_revoke(request: Request, c: ContainerDep, user: AdminDep, name: str = "") -> Response:
    """Ask first: a revoked token stops an EHR's feed at once and cannot be brought back."""
    found = [t for t in api_tokens.list_tokens(uow=c.uow()) if t.name == name.strip().lower()]
    if not found:
        message = f"There is no token named {name!r}."
        return render(request, "error.html", {"message": message}, status_code=404, user=user)
    return render(request, "token_revoke.html", {"token": found[0]}, user=user)


@router.post("/revoke", response_class=HTMLResponse)
def revoke_token(request: Request, c: ContainerDep, user: AdminDep, form: FormDep) -> Response:
    """Revoke once; a second submit (a double click, a reload) changes nothing and says so."""
    name = str(form.get("name") or "")
    try:
        revoked = api_tokens.revoke_api_token(
            uow=c.uow(),
            name=name,
            by=user.username,
            now=c.clock(),
            client_addr=staff_session.client_addr(request),
        )
    except ReminderError as exc:
        return render(request, "error.html", {"message": exc.message}, status_code=404, user=user)
    if revoked:
        flash(request, f"Token {name} revoked: requests that carry it are refused from now on.")
    else:
        flash(request, f"Token {name} was already revoked; nothing changed.")
    return RedirectResponse("/staff/users#tokens", status_code=303)
