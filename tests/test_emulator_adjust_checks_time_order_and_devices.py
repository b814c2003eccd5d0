"""The Adjust /event and /gdpr_forget_device emulator (§5.4 of mmp-apis.md): event times and their
order, and the device's state."""

from datetime import UTC, timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from events.emulator import registry
from events.emulator.models import EmuAdjustDevice
from tests.adjust_emulator_helpers import enable_auth, events, get, unix
from tests.emulator_fixtures import (
    ADJUST_APP,
    FORGET_URL,
    GPS_ADID,
    IDFA,
    IDFV,
    SECURITY_TOKEN,
    emu_adjust,  # noqa: F401 - a fixture
    error_of,
)

pytestmark = pytest.mark.usefixtures("emu_adjust")


# --- Timestamps ---------------------------------------------------------------------------


def test_it_reads_created_at_unix_in_seconds(client):
    moment = (timezone.now() - timedelta(days=1)).replace(microsecond=0)
    get(client, created_at_unix=unix(moment))
    assert events().get().event_at == moment


@pytest.mark.unconfirmed
def test_it_reads_13_digit_created_at_unix_as_milliseconds(client):
    moment = (timezone.now() - timedelta(days=1)).replace(microsecond=123000)
    assert get(client, created_at_unix=str(int(moment.timestamp() * 1000))).status_code == 200
    assert events().get().event_at == moment


def test_it_answers_400_for_a_created_at_unix_with_a_decimal_point(client):
    assert error_of(get(client, created_at_unix="1484085154.5")) == "Event request failed (Bad event state)"


def test_it_reads_adjusts_z_plus_offset_format(client):
    moment = (timezone.now() - timedelta(days=2)).astimezone(UTC).replace(microsecond=0)
    local = moment + timedelta(hours=2)
    assert get(client, created_at=local.strftime("%Y-%m-%dT%H:%M:%SZ+0200")).status_code == 200
    assert events().get().event_at == moment


def test_it_reads_iso_with_milliseconds_and_offset(client):
    moment = (timezone.now() - timedelta(days=2)).astimezone(UTC).replace(microsecond=0)
    assert get(client, created_at=moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000")).status_code == 200
    assert events().get().event_at == moment


@pytest.mark.unconfirmed
def test_it_reads_a_created_at_without_a_zone_as_utc(client):
    moment = (timezone.now() - timedelta(days=2)).astimezone(UTC).replace(microsecond=0)
    assert get(client, created_at=moment.strftime("%Y-%m-%dT%H:%M:%S")).status_code == 200
    assert events().get().event_at == moment


@pytest.mark.unconfirmed
def test_it_answers_400_for_an_unreadable_created_at(client):
    assert error_of(get(client, created_at="yesterday")) == "Event request failed (Bad event state)"


def test_created_at_unix_wins_over_created_at(client):
    moment = (timezone.now() - timedelta(days=1)).replace(microsecond=0)
    get(client, created_at_unix=unix(moment), created_at="2020-01-01T00:00:00Z")
    assert events().get().event_at == moment


@pytest.mark.unconfirmed
def test_it_answers_400_for_an_event_older_than_58_days(client):
    response = get(client, created_at_unix=unix(timezone.now() - timedelta(days=58, minutes=1)))
    assert response.status_code == 400
    assert error_of(response) == "Event request failed (Bad event state)"


def test_it_answers_400_for_an_event_before_the_install(client):
    registry.add_adjust_device(ADJUST_APP, {"idfa": IDFA}, installed_at=timezone.now() - timedelta(days=1))
    response = get(client, created_at_unix=unix(timezone.now() - timedelta(days=2)))
    assert response.status_code == 400
    assert error_of(response) == "Event request failed (Bad event state)"


@pytest.mark.unconfirmed
def test_it_answers_400_for_an_event_earlier_than_the_last_one_of_that_token(client):
    now = timezone.now()
    assert get(client, created_at_unix=unix(now - timedelta(hours=1))).status_code == 200
    response = get(client, created_at_unix=unix(now - timedelta(hours=2)))
    assert response.status_code == 400
    assert error_of(response) == "Event request failed (Bad event state: Ignoring duplicate event)"


def test_the_order_is_kept_per_event_token(client):
    registry.add_adjust_event_token(ADJUST_APP, "s2spur")
    now = timezone.now()
    assert get(client, created_at_unix=unix(now - timedelta(hours=1))).status_code == 200
    assert (
        get(client, event_token="s2spur", created_at_unix=unix(now - timedelta(hours=2))).status_code == 200
    )


@pytest.mark.unconfirmed
def test_an_event_without_a_time_is_never_out_of_order(client):
    assert get(client, created_at_unix=unix(timezone.now() + timedelta(hours=1))).status_code == 200
    assert get(client).status_code == 200


@pytest.mark.unconfirmed
def test_it_accepts_an_event_with_the_same_time_as_the_last_one(client):
    moment = unix(timezone.now() - timedelta(hours=1))
    assert get(client, created_at_unix=moment).status_code == 200
    assert get(client, created_at_unix=moment).status_code == 200
    assert events().count() == 2


# --- Devices ------------------------------------------------------------------------------


def test_it_answers_404_for_an_unknown_device(client):
    response = get(client, idfa="11111111-2222-3333-4444-555555555555")
    assert response.status_code == 404
    assert error_of(response) == "Event request failed (Device not found)"


@pytest.mark.unconfirmed
def test_it_answers_404_when_no_device_identifier_is_sent(client):
    assert error_of(get(client, idfa=None)) == "Event request failed (Device not found)"


def test_it_finds_a_device_by_any_of_its_identifiers(client):
    response = get(client, idfa=None, idfv=IDFV)
    assert response.status_code == 200
    assert events().get().device_ids == {"idfv": IDFV}


def test_a_lenient_app_installs_a_well_formed_device_on_first_sight(client):
    registry.register_adjust_app(ADJUST_APP, lenient_devices=True)
    response = get(
        client, idfa=None, gps_adid=GPS_ADID, created_at_unix=unix(timezone.now() - timedelta(days=57))
    )
    assert response.status_code == 200
    device = EmuAdjustDevice.objects.get(identifiers__value=GPS_ADID)
    assert device.installed_at < timezone.now() - timedelta(days=58)


@pytest.mark.unconfirmed
def test_a_lenient_app_does_not_install_a_malformed_device_id(client):
    registry.register_adjust_app(ADJUST_APP, lenient_devices=True)
    response = get(client, idfa=None, gps_adid=GPS_ADID.upper())
    assert response.status_code == 404
    assert error_of(response) == "Event request failed (Device not found)"


@pytest.mark.unconfirmed
def test_a_lenient_app_does_not_install_a_zeroed_advertising_id(client):
    registry.register_adjust_app(ADJUST_APP, lenient_devices=True)
    assert get(client, idfa="00000000-0000-0000-0000-000000000000").status_code == 404


def test_it_answers_451_for_an_opted_out_device(client):
    registry.add_adjust_device(ADJUST_APP, {"idfa": IDFA}, opted_out=True)
    response = get(client)
    assert response.status_code == 451
    assert error_of(response) == "Event request failed (Device is opted out)"


def test_it_answers_451_after_gdpr_forget_device(client):
    query = urlencode({"s2s": "1", "app_token": ADJUST_APP, "idfv": IDFV})
    forget = client.post(f"{FORGET_URL}?{query}")
    assert (forget.status_code, forget.json()) == (200, {"status": "OK"})
    response = get(client)
    assert response.status_code == 451


def test_gdpr_forget_device_remembers_an_unknown_device_as_opted_out(client):
    query = urlencode({"s2s": "1", "app_token": ADJUST_APP, "gps_adid": GPS_ADID})
    assert client.post(f"{FORGET_URL}?{query}").status_code == 200
    assert get(client, idfa=None, gps_adid=GPS_ADID).status_code == 451


@pytest.mark.unconfirmed
def test_gdpr_forget_device_answers_400_without_a_device_identifier(client):
    response = client.post(f"{FORGET_URL}?{urlencode({'s2s': '1', 'app_token': ADJUST_APP})}")
    assert response.status_code == 400
    assert error_of(response) == "Forget device request failed (Device not found)"


@pytest.mark.unconfirmed
def test_gdpr_forget_device_answers_400_for_a_malformed_device_identifier(client):
    query = urlencode({"s2s": "1", "app_token": ADJUST_APP, "idfa": "x" * 300})
    assert client.post(f"{FORGET_URL}?{query}").status_code == 400


def test_gdpr_forget_device_takes_only_post(client):
    assert client.get(FORGET_URL, {"s2s": "1", "app_token": ADJUST_APP, "idfa": IDFA}).status_code == 405


def test_gdpr_forget_device_needs_a_token_with_the_gdpr_scope_when_enforced(client):
    enable_auth(scopes=["events"])
    query = urlencode({"s2s": "1", "app_token": ADJUST_APP, "idfa": IDFA})
    response = client.post(f"{FORGET_URL}?{query}", HTTP_AUTHORIZATION=f"Bearer {SECURITY_TOKEN}")
    assert response.status_code == 401
    assert not EmuAdjustDevice.objects.filter(opted_out=True).exists()
