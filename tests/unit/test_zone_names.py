"""Time zones as a nurse or an EHR types them (domain/planning/timing.py): the page's own
spelling accepted, a "did you mean" by closeness, US names meaning US zones, and zones
without summer time refused for a patient."""

from __future__ import annotations

import pytest

from reminders.domain.errors import UnknownTimeZone
from reminders.domain.planning.timing import patient_zone, place_zones, zone_named


def test_the_pages_spelling_with_a_space_is_the_zone():
    assert patient_zone("America/New York").key == "America/New_York"


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("America/New_Yrok", "America/New_York"),
        ("America/Los_Angelse", "America/Los_Angeles"),
        ("Eastern", "America/New_York"),
        ("eastern time", "America/New_York"),
        ("Pacific", "America/Los_Angeles"),
        ("Honolulu", "Pacific/Honolulu"),
        ("New York", "America/New_York"),
        ("Los_Angeles", "America/Los_Angeles"),
    ],
)
def test_a_wrong_name_gets_the_closest_zone_as_did_you_mean(typed, meant):
    with pytest.raises(UnknownTimeZone) as refused:
        zone_named(typed)
    assert f"did you mean {meant}?" in refused.value.message


def test_eastern_never_suggests_canada():
    with pytest.raises(UnknownTimeZone) as refused:
        zone_named("Eastern")
    assert "Canada" not in refused.value.message


@pytest.mark.parametrize(
    ("typed", "instead"),
    [("EST", "America/New_York"), ("HST", "Pacific/Honolulu"), ("Etc/GMT+5", "city")],
)
def test_a_patient_zone_without_summer_time_is_refused_with_the_place_to_use(typed, instead):
    zone_named(typed)  # a real zone: stored rows that name it still read
    with pytest.raises(UnknownTimeZone) as refused:
        patient_zone(typed)
    assert "without summer time" in refused.value.message and instead in refused.value.message


def test_places_that_never_change_their_clocks_are_fine():
    assert patient_zone("America/Phoenix").key == "America/Phoenix"
    assert patient_zone("Pacific/Honolulu").key == "Pacific/Honolulu"


def test_the_list_of_places_names_each_zone_by_city_and_country():
    places = place_zones()
    assert places["Pacific/Honolulu"] == "Honolulu, United States"
    assert places["America/New_York"] == "New York, United States"
    assert "EST" not in places and "Canada/Eastern" not in places and len(places) > 300
