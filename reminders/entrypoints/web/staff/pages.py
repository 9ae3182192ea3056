"""Server-rendered pages: the Jinja2 environment, filters and a render helper with flashes."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import phonenumbers
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from reminders.domain.enrollment.contact import mask_phone
from reminders.domain.planning.timing import zone_named
from reminders.entrypoints.web import staff_session
from reminders.entrypoints.web.deps import csrf_token
from reminders.services.staff import worklist

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
    env.filters["readable"] = readable_detail
    env.filters["tel"] = tel_href
    env.filters["phone"] = shown_phone
    env.filters["words"] = nurse_words
    env.globals["action_words"] = action_words
    env.globals["LANGUAGES"] = LANGUAGES
    return Jinja2Templates(env=env)


def local_time(when: datetime | None, zone: str, fmt: str = "%a %b %-d, %-I:%M %p %Z") -> str:
    """A UTC datetime shown in a time zone, the way the clinic reads it."""
    if when is None:
        return ""
    return when.astimezone(zone_named(zone)).strftime(fmt)


ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})")


def readable_detail(text: str | None, zone: str) -> str:
    """An audit detail with its stored timestamps shown as local times, and words, not keys."""
    if not text:
        return ""

    def local(match: re.Match[str]) -> str:
        try:
            when = datetime.fromisoformat(match.group(0).replace("Z", "+00:00"))
        except ValueError:
            return match.group(0)
        return local_time(when, zone, "%b %-d, %Y %-I:%M %p %Z")

    return ISO_TIME.sub(local, text).replace("_", " ").replace(" -> ", " → ")


# The code's words for check-in kinds and reasons, as a nurse reads them.
WORDS = {
    "pain_warning": "pain and warning signs",
    "bone_med": "bone medicine",
    "stale: ": "too late to send: ",
}


def nurse_words(text: str | None, zone: str) -> str:
    """A stored note as a nurse reads it: local times, plain words for the code's names."""
    for code, words in WORDS.items():
        text = (text or "").replace(code, words)
    return readable_detail(text, zone)


def action_words(action: str, detail: str | None = None) -> str:
    """What happened to a text, in words: a known patient's text that answers nothing is
    "Not an answer to a question", never "Unmatched"."""
    if action == "unmatched":
        return "From an unknown number" if detail == "unknown number" else "Not an answer"
    return action.replace("_", " ").capitalize()


def shown_phone(phone: str | None) -> str:
    """A phone as the clinic writes it: (805) 555-0142 at home, +44 20 7946 0958 abroad."""
    if not phone:
        return ""
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return phone
    if number.country_code == 1:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def tel_href(phone: str | None) -> str:
    """A tap-to-call link target: tel: and the number's digits (E.164 keeps its +)."""
    return "tel:" + re.sub(r"[^\d+]", "", phone or "")


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
        "clinic_zone": c.settings.clinic_timezone,
        "open_items": worklist.open_items(uow=c.uow()) if user else 0,
        "csrf": csrf_token(request),
        "flashes": staff_session.take_flashes(request),
        "clinic": c.clinic,
        "errors": {},
        "path": request.url.path,
        # Idle logoff: the page warns before it (static/live.js).
        "idle_seconds": c.settings.session_idle_minutes * 60,
    }
    return templates.TemplateResponse(
        request, name, {**base, **(context or {})}, status_code=status_code
    )
