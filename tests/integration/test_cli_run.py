"""`reminders run`: quiet by default (warnings only from the background), --verbose for logs."""

from __future__ import annotations

from click.testing import CliRunner

from reminders.entrypoints.cli import main


def started(monkeypatch, *args: str) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    seen: dict[str, list[str]] = {}

    def supervise(commands, *, env):  # type: ignore[no-untyped-def]
        seen.update(commands)
        return 0

    monkeypatch.setattr("reminders.entrypoints.cli_run.supervise", supervise)
    monkeypatch.setattr("reminders.bootstrap.bootstrap", lambda settings: None)
    result = CliRunner().invoke(main, ["run", *args])
    assert result.exit_code == 0, result.output
    return seen


def test_run_is_quiet_unless_asked(monkeypatch, tmp_path):
    monkeypatch.setenv("REMINDERS_VAR_DIR", str(tmp_path))
    quiet = started(monkeypatch)
    assert quiet["web"][-3:] == ["--log-level", "warning", "--no-access-log"]
    for queue in ("control", "sends"):  # a worker per queue
        worker = quiet[queue]
        assert "--quiet" in worker and worker[worker.index("--loglevel") + 1] == "WARNING"
    assert "--quiet" in quiet["beat"] and quiet["beat"][-1] == "WARNING"
    loud = started(monkeypatch, "--verbose")
    assert "--no-access-log" not in loud["web"] and loud["web"][-1] == "info"
    assert "--quiet" not in loud["sends"] and "INFO" in loud["sends"]
