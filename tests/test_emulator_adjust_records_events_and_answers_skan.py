"""The Adjust /event emulator (§5.4 of mmp-apis.md): unique events, what it records, and its SKAN answer."""

import pytest

from events.emulator import registry
from tests.adjust_emulator_helpers import events, get
from tests.emulator_fixtures import (
    ADJUST_APP,
    EVENT,
    GPS_ADID,
    OTHER_ADJUST_APP,
    UNIQUE_EVENT,
    emu_adjust,  # noqa: F401 - a fixture
    error_of,
)

pytestmark = pytest.mark.usefixtures("emu_adjust")


# --- Unique events, recording, SKAN -------------------------------------------------------


def test_it_answers_400_for_a_unique_event_sent_twice(client):
    assert get(client, event_token=UNIQUE_EVENT).status_code == 200
    response = get(client, event_token=UNIQUE_EVENT)
    assert response.status_code == 400
    assert error_of(response) == "Event request failed (Ignoring event, earlier unique event tracked)"
    assert events().count() == 1


def test_a_unique_event_counts_per_device(client):
    registry.add_adjust_device(ADJUST_APP, {"gps_adid": GPS_ADID})
    assert get(client, event_token=UNIQUE_EVENT).status_code == 200
    assert get(client, event_token=UNIQUE_EVENT, idfa=None, gps_adid=GPS_ADID).status_code == 200


def test_it_records_every_copy_of_a_plain_event(client):
    get(client)
    get(client)
    assert events().count() == 2


def test_it_records_the_other_parameters_without_the_device_ids(client):
    get(client, ip_address="192.0.2.1", os_name="ios")
    event = events().get()
    assert event.params == {"s2s": "1", "ip_address": "192.0.2.1", "os_name": "ios"}
    assert event.platform == "ios"


@pytest.mark.unconfirmed
def test_an_app_with_skan_gets_conversion_values_in_the_answer(client):
    registry.register_adjust_app(ADJUST_APP, skan_enabled=True, lenient_devices=False)
    response = get(client, revenue="30", currency="USD")
    assert response.json() == {
        "status": "OK",
        "skadn_conv_value": 30,
        "skadn_coarse_value": "medium",
        "skadn_lock_window": 0,
    }


def test_registering_the_same_app_twice_changes_nothing(client):
    registry.register_adjust_app(ADJUST_APP, event_tokens=[EVENT], lenient_devices=False)
    registry.register_adjust_app(OTHER_ADJUST_APP, event_tokens=["xyzklm"])
    assert get(client).status_code == 200


def test_it_answers_an_accepted_event_in_a_handful_of_queries(client, django_assert_max_num_queries):
    get(client)  # the device's state row exists from here on
    with django_assert_max_num_queries(10):
        assert get(client).status_code == 200
