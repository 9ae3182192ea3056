"""docs/architecture.md names every module under reminders/, and only modules that exist."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "reminders"
DOC = ROOT / "docs" / "architecture.md"


def modules() -> set[str]:
    """Every module's path under reminders/, as the doc writes it (domain/lifecycles/message.py)."""
    return {
        p.relative_to(PACKAGE).as_posix()
        for p in PACKAGE.rglob("*.py")
        if p.name != "__init__.py" and "__pycache__" not in p.parts
    }


def listed() -> dict[str, str]:
    """The "Every module" section's rows: module path -> its purpose."""
    section = DOC.read_text(encoding="utf-8").split("## Every module", 1)[1]
    return dict(re.findall(r"^\| `([^`]+\.py)` \| (.+?) \|$", section, re.M))


def test_every_module_is_named_with_its_purpose():
    rows = listed()
    missing = sorted(modules() - set(rows))
    assert not missing, f"add a line for each to docs/architecture.md, 'Every module': {missing}"
    assert all(len(purpose.split()) >= 3 for purpose in rows.values())


def test_the_doc_names_no_module_that_is_gone():
    gone = sorted(set(listed()) - modules())
    assert not gone, f"remove or rename in docs/architecture.md: {gone}"


def test_the_check_sees_the_package():
    assert {
        "domain/lifecycles/message.py",
        "adapters/db/messages/message_repository.py",
        "settings.py",
    } <= modules()
    assert len(modules()) > 100
