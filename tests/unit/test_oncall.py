"""The on-call rota, the paging ladder and the spoken alert (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from reminders.domain.inbound.oncall import (
    CODE_ALPHABET,
    Contact,
    RotaError,
    Step,
    ack_code,
    ack_code_in,
    coverage,
    daily_gaps,
    next_on_duty,
    next_rung,
    on_duty,
    parse_rota,
    rota_refusal,
    spoken_alert,
)
from reminders.settings import Settings

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


GAPPY = """[
  {"name": "Day RN", "phone": "+18055550101", "start": "07:00", "end": "15:00"},
  {"name": "Night RN", "phone": "+18055550102", "start": "19:00", "end": "07:00"}
]"""


def test_a_rota_gap_is_found_even_across_midnight():
    assert daily_gaps(parse_rota(GAPPY)) == [(time(15, 0), time(19, 0))]
    assert daily_gaps(parse_rota(ROTA)) == []
    overnight = '[{"name": "A", "phone": "1", "start": "06:00", "end": "22:00"}]'
    assert daily_gaps(parse_rota(overnight)) == [(time(22, 0), time(6, 0))]


def test_a_rota_with_a_gap_is_refused_unless_a_fallback_is_set():
    refused = rota_refusal(GAPPY, fallback=False)
    assert refused and "nobody on call 15:00-19:00" in refused
    assert rota_refusal(GAPPY, fallback=True) is None
    assert rota_refusal(ROTA, fallback=False) is None
    assert "not JSON" in (rota_refusal("[oops", fallback=False) or "")
    with pytest.raises(ValidationError, match="nobody on call 15:00-19:00"):
        Settings(REMINDERS_ONCALL_ROTA=GAPPY, REMINDERS_ONCALL_PHONE="")
    assert Settings(REMINDERS_ONCALL_ROTA=GAPPY, REMINDERS_ONCALL_PHONE="+18055550100")


def test_the_next_shift_and_the_weeks_coverage_in_the_clinics_zone():
    rota = parse_rota(GAPPY)
    at_15_13 = datetime(2026, 12, 8, 23, 13, tzinfo=UTC)  # 15:13 in Los Angeles
    contact, when = next_on_duty(rota, after=at_15_13, zone=LA) or (None, None)
    assert contact and contact.name == "Night RN"
    assert when == datetime(2026, 12, 9, 3, 0, tzinfo=UTC)
    lines = coverage(rota, start=at_15_13, zone=LA, days=7, fallback="")
    assert lines[0] == "Tue Dec 08 15:13 PST  NOBODY: red flags page no one"
    assert lines[1] == "Tue Dec 08 19:00 PST  Night RN"
    assert sum("NOBODY" in line for line in lines) == 8  # 15:13 today to 15:13 in a week


@pytest.mark.parametrize(
    ("text", "code"),
    [("ACK K7QM", "K7QM"), ("ack k7qm on it", "K7QM"), ("GB98 ok", "GB98"),
     ("Ack: k7qm.", "K7QM"), ("ok", None), ("on it", None), ("call me", None)],
)  # fmt: skip
def test_ack_and_its_code_anywhere_in_the_text(text, code):
    assert ack_code_in(text) == code
