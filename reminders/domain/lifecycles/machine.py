"""A small state machine: named states, the moves allowed between them, checked when declared.

The enrollment, check-in and escalation lifecycles are each one of these; a repository's
conditional UPDATE takes a declared `Step`'s starting states, so a writer can only make a
move the lifecycle allows. (An outbound message has its own, richer machine: message.py.)
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from reminders.domain.errors import IllegalTransition

StatusT = TypeVar("StatusT", bound=enum.StrEnum)


@dataclass(frozen=True)
class Lifecycle(Generic[StatusT]):
    name: str  # "an enrollment", for the error a wrong move raises
    transitions: Mapping[StatusT, frozenset[StatusT]]

    def check(self, current: StatusT, new: StatusT) -> None:
        """Raise IllegalTransition unless current -> new is allowed."""
        if new not in self.transitions[current]:
            raise IllegalTransition(f"{self.name} cannot go from {current} to {new}")

    def step(self, frm: tuple[StatusT, ...], to: StatusT) -> Step[StatusT]:
        """Declare a move from any of `frm` to `to`; refused here if the machine forbids it."""
        for status in frm:
            self.check(status, to)
        return Step(frm, to)


@dataclass(frozen=True)
class Step(Generic[StatusT]):
    frm: tuple[StatusT, ...]
    to: StatusT

    @property
    def sources(self) -> list[str]:
        """The starting states as stored, for a statement's `status IN (...)`."""
        return sorted(s.value for s in self.frm)
