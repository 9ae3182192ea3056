"""Care-plan files: read config/care_plans/<procedure>.toml into domain CarePlans."""

from __future__ import annotations

import tomllib
from pathlib import Path

from reminders.domain.errors import InvalidCarePlan, UnknownProcedure
from reminders.domain.planning.careplan import CarePlan, parse_care_plan


class CarePlanLibrary:
    """Every care plan in a folder, loaded and validated once."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._plans: dict[str, CarePlan] = {}
        for path in sorted(folder.glob("*.toml")):
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise InvalidCarePlan(f"{path}: not valid TOML: {exc}") from None
            plan = parse_care_plan(data, source=str(path))
            if plan.procedure != path.stem:
                raise InvalidCarePlan(
                    f"{path}: procedure {plan.procedure!r} must match the file name"
                )
            self._plans[plan.procedure] = plan

    def by_code(self, system: str, code: str) -> str | None:
        """The procedure whose plan lists this code (e.g. a CPT code from an EHR), if any."""
        for name, plan in self._plans.items():
            if code in plan.codes.get(system, ()):
                return name
        return None

    def known_codes(self) -> list[str]:
        return sorted(
            f"{system}|{code}"
            for plan in self._plans.values()
            for system, codes in plan.codes.items()
            for code in codes
        )

    def names(self) -> list[str]:
        return sorted(self._plans)

    def get(self, procedure: str) -> CarePlan:
        key = (procedure or "").strip().lower()
        try:
            return self._plans[key]
        except KeyError:
            known = ", ".join(self.names()) or "none (no plans in " + str(self.folder) + ")"
            raise UnknownProcedure(
                f"no care plan for {procedure!r}; known procedures: {known}"
            ) from None
