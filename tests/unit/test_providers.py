"""ProviderError: a failed send keeps the provider's code and how sending should treat it."""

import pytest

from reminders.adapters.providers.ports import ProviderError, Sent
from reminders.domain.outbound.retry import ErrorClass


@pytest.mark.parametrize(
    ("code", "http_status", "expected"),
    [
        ("21610", 400, ErrorClass.OPTED_OUT),  # the patient texted STOP: never retry
        ("21211", 400, ErrorClass.PERMANENT),  # not a valid number
        ("30005", None, ErrorClass.PERMANENT),  # unknown destination
        ("30003", None, ErrorClass.TRANSIENT),  # unreachable handset: later may work
        ("20429", 429, ErrorClass.TRANSIENT),
        (None, 503, ErrorClass.TRANSIENT),  # the provider is down
        (None, 429, ErrorClass.TRANSIENT),
        (None, 422, ErrorClass.PERMANENT),  # our request is wrong: retrying cannot help
        (None, 401, ErrorClass.TRANSIENT),  # credentials an operator can fix in time
        (None, None, ErrorClass.TRANSIENT),  # not reachable: unknown is retried
        ("99999", 400, ErrorClass.PERMANENT),  # an unknown code falls back on the HTTP status
    ],
)
def test_a_failure_is_classified_from_its_code_then_its_http_status(code, http_status, expected):
    exc = ProviderError("Twilio said no", code=code, http_status=http_status)
    assert exc.error_class is expected
    assert (exc.code, exc.http_status, exc.message, str(exc)) == (
        code,
        http_status,
        "Twilio said no",
        "Twilio said no",
    )


def test_an_adapter_that_knows_better_gives_the_class_itself():
    exc = ProviderError("SMTP 550 mailbox unavailable", error_class=ErrorClass.PERMANENT)
    assert exc.error_class is ErrorClass.PERMANENT
    assert exc.code is None


def test_a_send_is_sent_unless_the_provider_says_it_is_only_queued():
    assert Sent("SM123").status == "sent"
    assert Sent("SM123", status="queued") == Sent("SM123", "queued")
