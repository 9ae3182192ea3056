"""The clinic's nouns: who may get more texts, and the message states re-exported for callers."""

from datetime import UTC, datetime

import pytest

from reminders.domain import model
from reminders.domain.lifecycles import message as delivery
from reminders.domain.model import Channel, Consent, ConsentMethod, MessageStatus

NOW = datetime(2026, 5, 4, 17, 0, tzinfo=UTC)


def consent(channel=Channel.SMS, *, given=True, method=ConsentMethod.WRITTEN, more=True):
    return Consent(channel, given, method, "nurse.kim", NOW, more_frequent_sms=more)


def test_written_sms_consent_to_more_texts_lifts_the_cap():
    assert consent().lifts_sms_cap is True


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"method": ConsentMethod.VERBAL}, "verbal consent never lifts the cap"),
        ({"more": False}, "written consent without asking for more texts"),
        ({"given": False}, "withdrawn consent"),
        ({"channel": Channel.EMAIL}, "the cap is about texts"),
    ],
)
def test_anything_less_keeps_the_default_cap(change, why):
    assert consent(**change).lifts_sms_cap is False, why


def test_the_message_states_are_the_ones_delivery_checks():
    # Callers import states from model; the state machine in delivery must be the same objects.
    assert model.MessageStatus is delivery.MessageStatus
    assert model.UNSENT is delivery.UNSENT
    assert model.Reason is delivery.Reason
    assert MessageStatus.SCHEDULED in model.UNSENT
    assert MessageStatus.SENT not in model.UNSENT
    for name in model.__all__:
        assert hasattr(model, name), name


def test_channels_and_methods_read_the_words_stored_in_the_database():
    assert Channel("sms") is Channel.SMS and str(Channel.EMAIL) == "email"
    assert ConsentMethod("written") is ConsentMethod.WRITTEN
    with pytest.raises(ValueError):
        Channel("fax")


def test_a_planned_message_is_scheduled_care_unless_it_says_otherwise():
    m = model.PlannedMessage(
        step_key="a",
        parts=("a",),
        channel=Channel.SMS,
        category="rest",
        send_at=NOW,
        deadline=NOW,
    )
    assert (m.status, m.kind, m.resend_of, m.first_sms) == (
        MessageStatus.SCHEDULED,
        "care",
        None,
        False,
    )
