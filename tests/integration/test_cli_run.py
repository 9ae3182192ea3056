"""`reminders run`: quiet by default (warnings only from the background), --verbose for logs."""

from __future__ import annotations

from click.testing import CliRunner

from reminders.entrypoints.cli.main import main


def started(monkeypatch, *args: str) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    seen: dict[str, list[str]] = {}

    def supervise(commands, *, env):  # type: ignore[no-untyped-def]
        seen.update(commands)
        return 0

    monkeypatch.setattr("reminders.entrypoints.cli.run.supervise", supervise)
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


def _py(code: str) -> list[str]:
    import sys

    return [sys.executable, "-c", code]


def test_a_worker_that_dies_is_started_again_and_the_rest_keep_running(tmp_path, capsys):
    from reminders.entrypoints.cli.run import supervise

    starts = tmp_path / "starts"
    # The worker dies on its first start (as after a broker outage), lives on the second.
    worker = (
        "import pathlib, sys, time\n"
        f"p = pathlib.Path({str(starts)!r}); n = len(p.read_text()) if p.exists() else 0\n"
        "p.write_text('x' * (n + 1))\n"
        "sys.exit(1) if n == 0 else time.sleep(60)\n"
    )
    web_alive = tmp_path / "web"
    web = f"import pathlib, time; time.sleep(3); pathlib.Path({str(web_alive)!r}).touch()"
    code = supervise({"web": _py(web), "sends": _py(worker)}, env={})
    assert web_alive.exists(), "the web server was stopped when the worker died"
    assert starts.read_text() == "xx", "the worker was not started again"
    err = capsys.readouterr().err
    assert "sends exited with status 1; starting it again in 1 s" in err
    assert "web exited with status 0; stopping the rest" in err
    assert code == 1


def test_a_process_that_keeps_dying_stops_everything(monkeypatch, capsys):
    from reminders.entrypoints.cli import run as cli_run

    monkeypatch.setattr(cli_run, "MAX_RESTARTS", 2)
    monkeypatch.setattr(cli_run, "FIRST_PAUSE", 0.05)
    code = cli_run.supervise(
        {"web": _py("import time; time.sleep(60)"), "beat": _py("raise SystemExit(3)")}, env={}
    )
    assert code == 3
    assert (
        "beat exited with status 3 (3 times in 120 s); stopping the rest" in capsys.readouterr().err
    )
