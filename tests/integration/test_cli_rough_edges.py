"""The CLI where a newcomer tripped (issue 27): `plan` refuses a time the clocks skip as
`enroll` does, `token create` names the name, `staff create` names the port the app runs on."""

from __future__ import annotations

from webtools import PASSWORD

from reminders.entrypoints.cli.main import main
from reminders.entrypoints.cli.run import record_url, served_url


def test_plan_refuses_a_time_the_clocks_skip_as_enroll_does(cli_runner):
    skipped = ["--performed-at", "2026-03-08T02:30", "--timezone", "America/Los_Angeles"]
    r = cli_runner.invoke(main, ["plan", "kyphoplasty", *skipped])
    assert r.exit_code == 2
    assert "did not happen in America/Los_Angeles" in r.output
    enrolled = cli_runner.invoke(
        main,
        ["enroll", "--first-name", "Ana", "--last-name", "Lopez", "--phone", "(805) 555-0142",
         "--procedure", "kyphoplasty", "--consent", "sms", *skipped],
    )  # fmt: skip
    assert enrolled.exit_code == 2 and "did not happen" in enrolled.output
    fine = ["--performed-at", "2026-03-08T03:30", "--timezone", "America/Los_Angeles"]
    assert cli_runner.invoke(main, ["plan", "kyphoplasty", *fine]).exit_code == 0


def test_token_create_with_a_long_name_says_name(cli_runner):
    r = cli_runner.invoke(main, ["token", "create", "x" * 80])
    assert r.exit_code == 2
    assert "error: name:" in r.output and "username" not in r.output


def test_staff_create_names_the_port_reminders_run_listens_on(cli_runner, container):
    assert served_url(container.settings) == "http://127.0.0.1:8000"  # nothing ran yet
    record_url(container.settings, "http://127.0.0.1:8123")  # `reminders run --port 8123`
    r = cli_runner.invoke(
        main, ["staff", "create", "dr.lee", "--password-stdin"], input=PASSWORD + "\n"
    )
    assert r.exit_code == 0, r.output
    assert "Sign in at http://127.0.0.1:8123/staff" in r.output
    chosen = container.settings.model_copy(update={"public_url": "https://rr.clinic.example"})
    chosen.model_fields_set.add("public_url")
    assert served_url(chosen) == "https://rr.clinic.example"  # REMINDERS_PUBLIC_URL wins
