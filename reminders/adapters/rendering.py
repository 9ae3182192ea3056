"""Message rendering with Jinja2 (StrictUndefined): SMS text, email subject, text and HTML."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Block:
    """A paragraph of an email, or a list when `items` is set (for the HTML layout)."""

    text: str = ""
    items: tuple[str, ...] = ()


class MessageRenderer:
    """Renders the templates under templates/ for one procedure, language and step list."""

    def __init__(self, templates_dir: Path) -> None:
        loader = FileSystemLoader(str(templates_dir))
        common: dict[str, Any] = {
            "loader": loader,
            "undefined": StrictUndefined,
            "keep_trailing_newline": False,
            "trim_blocks": True,
            "lstrip_blocks": True,
        }
        self.text_env = Environment(autoescape=False, **common)  # SMS and plain-text email
        self.html_env = Environment(autoescape=True, **common)  # every value HTML-escaped

    def step_path(self, procedure: str, language: str, step: str, kind: str) -> str:
        return f"messages/{procedure}/{language}/{step}.{kind}.j2"

    def _render(self, name: str, context: Mapping[str, Any]) -> str:
        return self.text_env.get_template(name).render(**context).strip()

    def sms_body(
        self, procedure: str, language: str, parts: Sequence[str], context: Mapping[str, Any]
    ) -> str:
        """Render the body of each step and join them (same-day texts merged into one)."""
        return " ".join(
            _one_line(self._render(self.step_path(procedure, language, p, "sms"), context))
            for p in parts
        )

    def sms(
        self,
        procedure: str,
        language: str,
        parts: Sequence[str],
        context: Mapping[str, Any],
        *,
        first: bool,
    ) -> str:
        """Render the full SMS: the clinic's name, the body and, on the first, how to opt out."""
        body = self.sms_body(procedure, language, parts, context)
        layout = f"layouts/{language}/sms.j2"
        return _one_line(self._render(layout, {**context, "body": body, "first": first}))

    def email(
        self, procedure: str, language: str, parts: Sequence[str], context: Mapping[str, Any]
    ) -> RenderedEmail:
        subject = _one_line(
            self._render(self.step_path(procedure, language, parts[0], "subject"), context)
        )
        body = "\n\n".join(
            self._render(self.step_path(procedure, language, p, "email"), context) for p in parts
        )
        text = self._render(f"layouts/{language}/email.txt.j2", {**context, "body": body})
        html = self.html_env.get_template("layouts/email.html.j2").render(
            **context, subject=subject, blocks=to_blocks(text), language=language
        )
        return RenderedEmail(subject=subject, text=text + "\n", html=html)

    def plain_email(
        self, *, subject: str, text: str, language: str, clinic: Mapping[str, Any]
    ) -> RenderedEmail:
        """Wrap an already written text (an alert, a reminder) in the clinic's HTML layout."""
        html = self.html_env.get_template("layouts/email.html.j2").render(
            clinic=clinic, subject=subject, blocks=to_blocks(text), language=language
        )
        return RenderedEmail(subject=subject, text=text.strip() + "\n", html=html)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def to_blocks(text: str) -> list[Block]:
    """Split plain text into paragraphs and lists: blank lines part them, "- " starts an item."""
    blocks: list[Block] = []
    for chunk in text.strip().split("\n\n"):
        lines = [ln.strip() for ln in chunk.strip().splitlines() if ln.strip()]
        if not lines:
            continue
        if all(ln.startswith("- ") for ln in lines):
            blocks.append(Block(items=tuple(ln[2:].strip() for ln in lines)))
            continue
        para: list[str] = []
        for ln in lines:
            if ln.startswith("- "):
                if para:
                    blocks.append(Block(text="\n".join(para)))
                    para = []
                blocks.append(Block(items=(ln[2:].strip(),)))
            else:
                para.append(ln)
        if para:
            blocks.append(Block(text="\n".join(para)))  # a sign-off keeps its line breaks
    return _merge_adjacent_lists(blocks)


def _merge_adjacent_lists(blocks: list[Block]) -> list[Block]:
    out: list[Block] = []
    for b in blocks:
        if b.items and out and out[-1].items:
            out[-1] = Block(items=out[-1].items + b.items)
        else:
            out.append(b)
    return out
