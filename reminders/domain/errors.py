"""Typed domain errors: each carries a message a clinic user can act on."""

from __future__ import annotations


class ReminderError(Exception):
    """Base for every error caused by input a user can correct."""

    field: str | None = None

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if field is not None:
            self.field = field


class InvalidPhoneNumber(ReminderError):
    field = "phone"


class InvalidEmail(ReminderError):
    field = "email"


class UnknownTimeZone(ReminderError):
    field = "timezone"


class UnknownProcedure(ReminderError):
    field = "procedure"


class UnsupportedLanguage(ReminderError):
    field = "language"


class NoConsent(ReminderError):
    field = "consent"


class InvalidProcedureTime(ReminderError):
    field = "performed_at"


class InvalidEnrollment(ReminderError):
    """An enrollment request with one or more wrong fields; `errors` maps each to why."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        only = next(iter(self.errors)) if len(self.errors) == 1 else None
        message = (
            self.errors[only]
            if only is not None
            else "; ".join(f"{field}: {why}" for field, why in self.errors.items())
        )
        super().__init__(message or "the enrollment request is not valid", field=only)

    def lines(self) -> list[str]:
        """One "field: message" per wrong field, for a command line or a report."""
        return [f"{field}: {why}" for field, why in self.errors.items()]


class InvalidCarePlan(ReminderError):
    """A care-plan file is malformed; the message names the file and the step."""


class EnrollmentNotFound(ReminderError):
    field = "id"


class EnrollmentClosed(ReminderError):
    """The enrollment was cancelled; it cannot be changed any more."""


class IllegalTransition(ReminderError):
    """A message state change the state machine forbids."""
