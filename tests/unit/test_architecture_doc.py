"""docs/architecture.md names every module under reminders/, and only modules that exist;
the docs name only modules and tests that exist, and nothing cites files outside the repo."""

import re
import subprocess
from pathlib import Path

import pytest

from reminders.domain.outbound.decisions import KINDS, Retry

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "reminders"
DOC = ROOT / "docs" / "architecture.md"
RULES = ROOT / "docs" / "rules.md"
LAYERS = {"domain", "adapters", "services", "checks", "entrypoints"}
# A path ending in .py, as the docs write one (`services/delivery/sending.py`).
PY_PATH = re.compile(r"[\w./-]+\.py\b")
# A test file named with the tests it points at: `tests/x.py` (`test_a`, `test_b`).
TEST_NAMES = re.compile(r"`(tests/[\w/]+\.py)` \(([^)]*)\)")
# Files that live outside the repository, which nothing in it may cite.
OUTSIDE = re.compile(r"\b(?:DESIGN|CONTENT|STYLE)\.md\b|\.\./shared\b")


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


def named_paths(doc: Path) -> tuple[set[str], set[str]]:
    """The module paths (under reminders/) and test files (under tests/) a doc names anywhere."""
    found_modules, found_tests = set(), set()
    for path in PY_PATH.findall(doc.read_text(encoding="utf-8")):
        path = path.removeprefix("reminders/")
        if path.startswith("tests/"):
            found_tests.add(path)
        elif path.split("/", 1)[0] in LAYERS or path in {"bootstrap.py", "settings.py"}:
            found_modules.add(path)
    return found_modules, found_tests


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


@pytest.mark.parametrize("doc", [DOC, RULES], ids=lambda d: d.name)
def test_every_module_the_docs_name_anywhere_exists(doc):
    named, _ = named_paths(doc)
    assert len(named) > 20  # the check reads the doc at all
    gone = sorted(named - modules())
    assert not gone, f"{doc.name} names modules that do not exist: {gone}"


def test_every_test_file_and_test_the_doc_names_exists():
    _, tests = named_paths(DOC)
    assert len(tests) > 10
    missing = sorted(t for t in tests if not (ROOT / t).is_file())
    assert not missing, f"docs/architecture.md names test files that do not exist: {missing}"
    text = DOC.read_text(encoding="utf-8")
    pointed = TEST_NAMES.findall(text)
    assert pointed
    gone = [
        f"{path}::{name}"
        for path, names in pointed
        for name in re.findall(r"`(test_\w+)`", names)
        if not re.search(rf"^(async )?def {name}\(", (ROOT / path).read_text("utf-8"), re.M)
    ]
    assert not gone, f"docs/architecture.md names tests that do not exist: {gone}"


def tracked_files() -> list[Path]:
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / name for name in out.decode().split("\0") if name]


def test_no_tracked_file_cites_files_outside_the_repository():
    citing = sorted(
        path.relative_to(ROOT).as_posix()
        for path in tracked_files()
        if path.is_file() and OUTSIDE.search(path.read_bytes().decode("utf-8", "replace"))
    )
    assert not citing, f"cite docs/ instead (docs/rules.md): {citing}"


def test_the_citation_check_finds_a_citation():
    assert OUTSIDE.search("see " + "DESIGN" + ".md rule 4")
    assert OUTSIDE.search("../" + "shared/CONTENT" + ".md")
    assert not OUTSIDE.search("docs/rules.md, rule 4; docs/architecture.md")


def kinds_table() -> dict[str, list[str]]:
    """The doc's kinds table: each kind's value -> its cells after the kind (table onwards)."""
    section = DOC.read_text(encoding="utf-8").split("### Kinds, their guardrails and retry", 1)[1]
    section = section.split("\n\n###", 1)[0]
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 10 and "`" in cells[0]:
            for kind in re.findall(r"`(\w+)`", cells[0]):
                rows[kind] = cells[1:]
    return rows


def test_the_kinds_table_says_what_kinds_declares():
    retry_words = {
        Retry.UNTIL_DEADLINE: "until its deadline",
        Retry.FOR_A_DAY: "for a day",
        Retry.NEVER: "never",
    }
    rows = kinds_table()
    assert set(rows) == {kind.value for kind in KINDS}
    for kind, rules in KINDS.items():
        _table, recipient, *flags, retry = rows[kind.value]
        g = rules.guardrails
        declared = [g.enrollment, g.consent, g.opt_out, g.deadline, g.quiet_hours, g.sms_cap]
        assert recipient.split()[0] == rules.recipient.value, kind
        assert [f == "yes" for f in flags] == declared, kind
        assert all(f in ("yes", "no") for f in flags), kind
        assert retry.startswith(retry_words[rules.retry]), kind
