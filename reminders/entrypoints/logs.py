"""Logging without PHI: phone numbers and emails masked in every record, query strings dropped."""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

# +18055550191, +1 (805) 555-0191, and the URL-encoded %2B18055550191 of a Twilio query.
_E164 = re.compile(r"(?:\+|%2[Bb])\d[\d\s().-]{5,20}\d")
# 805-555-0191, (805) 555 0191, 805.555.0191: three, three and four digits apart.
_NANP = re.compile(r"(?<![\w-])\(?\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}(?![\w-])")
# A bare run of 9-15 digits: a phone without its +, wherever it sits (To=8055550191).
_DIGITS = re.compile(r"(?<!\d)\d{9,15}(?!\d)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# uvicorn's access log: the query string of a search holds what staff typed (a name).
ACCESS_LOGGERS = ("uvicorn.access",)
# Libraries that log request URLs or bodies at INFO (twilio logs every query parameter).
CHATTY = ("twilio", "twilio.http_client")

_installed = threading.Lock()
_done = False


def _phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    if match.group(0).lower().startswith("%2b"):
        digits = digits[1:]  # the "2" of %2B is no digit of the number
    return "***" + digits[-4:] if len(digits) >= 7 else match.group(0)


def _email(match: re.Match[str]) -> str:
    text = match.group(0)
    local, _, domain = text.replace("%40", "@").partition("@")
    return f"{local[:1]}***@{domain}"


def mask(text: str) -> str:
    """The text with every email and phone-like number masked (last four digits kept)."""
    text = _EMAIL.sub(_email, text)
    text = _E164.sub(_phone, text)
    text = _NANP.sub(_phone, text)
    return _DIGITS.sub(_phone, text)


def _strip_query(path: Any) -> Any:
    return path.split("?", 1)[0] + "?..." if isinstance(path, str) and "?" in path else path


def clean(record: logging.LogRecord) -> logging.LogRecord:
    """Mask the record in place: message, arguments, exception and stack text."""
    if getattr(record, "_phi_masked", False):
        return record
    if record.name in ACCESS_LOGGERS and isinstance(record.args, tuple):
        # uvicorn's formatter unpacks these five arguments: keep their shape.
        record.args = tuple(
            mask(str(_strip_query(a))) if isinstance(a, str) else a for a in record.args
        )
    else:
        try:
            text = record.getMessage()
        except Exception:  # a broken format string: keep what there is, masked
            text = f"{record.msg} {record.args!r}"
        record.msg, record.args = mask(text), None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask(record.exc_text)
    if record.stack_info:
        record.stack_info = mask(record.stack_info)
    record._phi_masked = True
    return record


class NoResultRows(logging.Filter):
    """Drop SQLAlchemy's DEBUG lines of result rows: they are patients' names and phones."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(("Row ", "Col "))


class PhiFilter(logging.Filter):
    """A filter for handlers that are fed records made elsewhere (another process's)."""

    def filter(self, record: logging.LogRecord) -> bool:
        clean(record)
        return True


def install_phi_filter() -> None:
    """Mask every record of every logger at its creation; quiet the chatty libraries.

    A filter on a logger misses records of its children, and one on a handler misses
    handlers added later (uvicorn's, Celery's, pytest's): masking in the record factory
    covers them all. Safe to call more than once.
    """
    global _done
    with _installed:
        if _done:
            return
        make = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            return clean(make(*args, **kwargs))

        logging.setLogRecordFactory(factory)
        for name in CHATTY:
            logging.getLogger(name).setLevel(logging.WARNING)
        # SQLAlchemy logs rows on the engine's own logger, so a filter there sees them all.
        logging.getLogger("sqlalchemy.engine.Engine").addFilter(NoResultRows())
        _done = True
