"""Server-rendered pages: the Jinja2 environment, filters and a render helper with flashes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from reminders.domain.contact import mask_phone
from reminders.domain.timing import zone_named
from reminders.entrypoints.web import staff_session
from reminders.entrypoints.web.deps import csrf_token

LANGUAGES = {"en": "English", "es": "Español"}


def make_templates(templates_dir: Path) -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(templates_dir / "staff"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["local"] = local_time
    env.filters["mask_phone"] = mask_phone
    env.globals["LANGUAGES"] = LANGUAGES
    return Jinja2Templates(env=env)


def local_time(when: datetime | None, zone: str, fmt: str = "%a %b %-d, %-I:%M %p %Z") -> str:
    """A UTC datetime shown in a time zone, the way the clinic reads it."""
    if when is None:
        return ""
    return when.astimezone(zone_named(zone)).strftime(fmt)


def flash(request: Request, text: str, kind: str = "ok") -> None:
    """Show a one-time notice on the next page (after a redirect); kept server-side."""
    staff_session.flash(request, text, kind)


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    user: Any = None,
) -> HTMLResponse:
    c = request.app.state.container
    templates: Jinja2Templates = request.app.state.templates
    base = {
        "user": user,
        "csrf": csrf_token(request),
        "flashes": staff_session.take_flashes(request),
        "clinic": c.clinic,
        "errors": {},
        "path": request.url.path,
    }
    return templates.TemplateResponse(
        request, name, {**base, **(context or {})}, status_code=status_code
    )
