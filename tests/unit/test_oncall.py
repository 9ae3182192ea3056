"""The on-call rota, the paging ladder and the spoken alert (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from reminders.domain.inbound.oncall import (
    CODE_ALPHABET,
    Contact,
    RotaError,
    Step,
    ack_code,
    next_rung,
    on_duty,
    parse_rota,
    spoken_alert,
)

LA = ZoneInfo("America/Los_Angeles")
ROTA = """[
  {"name": "Day nurse", "phone": "+18055550101", "start": "08:00", "end": "20:00"},
  {"name": "Night nurse", "phone": "+18055550102", "start": "20:00", "end": "08:00"},
  {"name": "Dr. Patel", "email": "patel@clinic.example", "backup": true}
]"""


def test_the_ladder_climbs_every_ack_period_and_stops_at_the_call():
    created, ack = datetime(2026, 5, 6, 9, 0, tzinfo=UTC), timedelta(minutes=15)
    rungs = [next_rung(done, created_at=created, ack=ack) for done in range(1, 5)]
    assert rungs == [
        (Step.REPAGE, created + ack),
        (Step.BACKUP, created + 2 * ack),
        (Step.CALL, created + 3 * ack),
        None,
    ]


@pytest.mark.parametrize(
    ("local", "on_call"),
    [(time(9, 0), "Day nurse"), (time(19, 59), "Day nurse"), (time(20, 0), "Night nurse"),
     (time(2, 0), "Night nurse"), (time(7, 59), "Night nurse")],
)  # fmt: skip
def test_the_rota_is_read_in_the_clinics_zone_overnight_shifts_included(local, on_call):
    rota = parse_rota(ROTA)
    now = datetime(2026, 5, 6, local.hour, local.minute, tzinfo=LA)
    primary, backup = on_duty(rota, now=now, zone=LA)
    assert primary is not None and primary.name == on_call
    assert backup == Contact("Dr. Patel", email="patel@clinic.example", backup=True)


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("{", "not JSON"),
        ('{"name": "x"}', "JSON list"),
        ('[{"name": "x"}]', "neither phone nor email"),
        ('[{"phone": "+18055550101", "start": "8am"}]', "entry 1"),
    ],
)
def test_a_bad_rota_says_what_is_wrong(raw, words):
    with pytest.raises(RotaError, match=words):
        parse_rota(raw)


def test_an_empty_rota_is_no_rota():
    assert parse_rota("  ") == ()


def test_codes_are_short_and_easy_to_read():
    codes = {ack_code() for _ in range(200)}
    assert all(len(c) == 4 and set(c) <= set(CODE_ALPHABET) for c in codes)
    assert len(codes) > 150


def test_the_spoken_alert_names_the_clinic_escaped_and_nothing_else():
    twiml = spoken_alert("Smith & <Jones>")
    assert twiml.count("This is Smith &amp; &lt;Jones&gt;: a patient reported a warning sign;") == 2
    assert twiml.startswith('<?xml version="1.0" encoding="UTF-8"?><Response><Say')
