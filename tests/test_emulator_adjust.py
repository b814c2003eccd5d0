"""The Adjust /event and /gdpr_forget_device emulator: the §5.4 matrix of mmp-apis.md."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
import requests
from django.test import override_settings
from django.utils import timezone

from events.emulator import adjust, registry
from events.emulator.models import EmuAdjustDevice
from events.emulator.wire import Incoming
from tests.emulator_fixtures import (
    ADJUST_APP,
    ADJUST_URL,
    EVENT,
    FORGET_URL,
    GPS_ADID,
    IDFA,
    IDFV,
    OTHER_ADJUST_APP,
    SECURITY_TOKEN,
    UNIQUE_EVENT,
    adjust_params,
    emu_adjust,  # noqa: F401 - a fixture
    error_of,
)

FORM = "application/x-www-form-urlencoded"
pytestmark = pytest.mark.usefixtures("emu_adjust")


def get(client, auth: str | None = None, **changes):
    headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
    return client.get(ADJUST_URL, adjust_params(**changes), **headers)


def post_form(client, params, url=ADJUST_URL, **headers):
    return client.post(url, urlencode(params), content_type=FORM, **headers)


def unix(moment: datetime) -> str:
    return str(int(moment.timestamp()))


def events():
    return registry.recorded_events("adjust")


# --- Transport and parameters -------------------------------------------------------------


def test_it_accepts_a_get_with_query_parameters(client):
    response = get(client)
    assert response.status_code == 200
    assert response.json() == {"status": "OK"}
    assert response["Content-Type"] == "application/json; charset=utf-8"
    [event] = events()
    assert (event.app_key, event.event_token, event.kind) == (ADJUST_APP, EVENT, "event")
    assert event.device_ids == {"idfa": IDFA}
    assert event.request_method == "GET"


def test_it_accepts_a_post_with_query_parameters_and_no_body(client):
    response = client.generic("POST", ADJUST_URL + "?" + urlencode(adjust_params()))
    assert response.status_code == 200
    assert events().get().request_method == "POST"


def test_it_accepts_a_post_with_a_form_body(client):
    response = post_form(client, adjust_params())
    assert response.status_code == 200
    assert events().get().request_body == urlencode(adjust_params())


@pytest.mark.unconfirmed
def test_a_body_parameter_wins_over_the_same_query_parameter(client):
    url = ADJUST_URL + "?" + urlencode({"event_token": "nosuch"})
    response = post_form(client, adjust_params(), url=url)
    assert response.status_code == 200
    assert events().get().event_token == EVENT


@pytest.mark.unconfirmed
def test_it_ignores_a_body_that_is_not_form_encoded(client):
    response = client.post(ADJUST_URL, adjust_params(), content_type="application/json")
    assert response.status_code == 400
    assert error_of(response) == "Event request failed (Invalid app token)"


@pytest.mark.unconfirmed
def test_the_first_of_repeated_parameters_wins(client):
    query = urlencode(adjust_params()) + "&event_token=nosuch"
    assert client.get(ADJUST_URL + "?" + query).status_code == 200


def test_parameter_names_are_case_sensitive(client):
    response = get(client, app_token=None, App_Token=ADJUST_APP)
    assert response.status_code == 400
    assert error_of(response) == "Event request failed (Invalid app token)"


@pytest.mark.unconfirmed
def test_it_answers_405_with_an_empty_body_to_other_methods(client):
    response = client.put(ADJUST_URL, urlencode(adjust_params()), content_type=FORM)
    assert response.status_code == 405
    assert response.content == b""


def test_it_answers_413_when_the_body_is_over_1_mb(client):
    response = post_form(client, adjust_params(padding="x" * 1_048_576))
    assert response.status_code == 413
    assert error_of(response) == "Event request failed (Request size too large)"
    assert not events().exists()


def test_the_query_string_counts_towards_the_1_mb_limit(client):
    url = ADJUST_URL + "?padding=" + "x" * 600_000
    response = post_form(client, adjust_params(padding2="y" * 500_000), url=url)
    assert response.status_code == 413


def test_a_nul_byte_in_a_parameter_gets_an_answer_not_a_crash(client):
    response = client.get(
        ADJUST_URL + "?" + urlencode(adjust_params(event_token="f0ob4r\x00", currency="\x00"))
    )
    assert error_of(response) == "Event request failed (Invalid event token)"


def test_it_answers_404_when_the_emulator_is_disabled(client):
    with override_settings(EMULATOR_ENABLED=False):
        assert get(client).status_code == 404
    assert not events().exists()


def test_the_checks_answer_without_http():
    incoming = Incoming.build("GET", urlencode(adjust_params()))
    status, body = adjust.check_event(incoming, now=timezone.now(), commit=False)
    assert (status, body) == (200, {"status": "OK"})
    assert not events().exists()


# --- App token and app status -------------------------------------------------------------


@pytest.mark.unconfirmed
def test_it_accepts_an_event_without_s2s(client):
    assert get(client, s2s=None).status_code == 200


def test_it_answers_400_when_the_app_token_is_missing(client):
    response = get(client, app_token=None, s2s=None)
    assert response.status_code == 400
    assert error_of(response) == "Event request failed (Invalid app token)"


@pytest.mark.unconfirmed
def test_it_answers_400_for_a_malformed_app_token(client):
    response = get(client, app_token="4W565XZMB54D")
    assert response.status_code == 400
    assert error_of(response) == "Event request failed (Invalid app token)"


def test_it_answers_404_for_an_unknown_app_token(client):
    response = get(client, app_token="nosuchapp123")
    assert response.status_code == 404
    assert error_of(response) == "Event request failed (App token not found)"


def test_it_answers_403_for_an_inactive_app(client):
    registry.register_adjust_app(ADJUST_APP, active=False)
    response = get(client)
    assert response.status_code == 403
    assert error_of(response) == "Event request failed (App is inactive)"


def test_it_answers_403_when_tracking_is_disabled_for_the_platform_in_os_name(client):
    registry.register_adjust_app(ADJUST_APP, platforms=["ios"], lenient_devices=False)
    response = get(client, os_name="android")
    assert response.status_code == 403
    assert error_of(response) == "Event request failed (Tracking disabled)"


@pytest.mark.unconfirmed
def test_it_infers_the_platform_from_the_identifier_type(client):
    registry.register_adjust_app(ADJUST_APP, platforms=["ios"], lenient_devices=False)
    response = get(client, idfa=None, gps_adid=GPS_ADID)
    assert response.status_code == 403
    assert error_of(response) == "Event request failed (Tracking disabled)"


# --- S2S Security -------------------------------------------------------------------------


def enable_auth(mode="401", **token):
    registry.register_adjust_app(ADJUST_APP, auth_enabled=True, auth_failure_mode=mode, lenient_devices=False)
    registry.add_adjust_security_token(ADJUST_APP, SECURITY_TOKEN, **token)


def test_it_accepts_the_active_security_token(client):
    enable_auth()
    assert get(client, auth=f"Bearer {SECURITY_TOKEN}").status_code == 200


def test_auth_mode_401_rejects_a_missing_token(client):
    enable_auth()
    response = get(client)
    assert response.status_code == 401
    assert error_of(response) == "Event request failed (Failed to authorize request)"


def test_auth_mode_401_rejects_a_wrong_token(client):
    enable_auth()
    response = get(client, auth="Bearer wrongwrongwrong")
    assert response.status_code == 401
    assert error_of(response) == "Event request failed (Failed to authorize request)"


def test_auth_mode_401_rejects_an_inactive_token(client):
    enable_auth()
    registry.add_adjust_security_token(ADJUST_APP, "old0token0inactive", active=False)
    response = get(client, auth="Bearer old0token0inactive")
    assert response.status_code == 401


@pytest.mark.unconfirmed
def test_it_answers_401_for_a_token_without_the_events_scope(client):
    enable_auth(scopes=["sessions"])
    response = get(client, auth=f"Bearer {SECURITY_TOKEN}")
    assert response.status_code == 401
    assert error_of(response) == "Event request failed (Failed to authorize request)"


def test_a_token_with_the_events_scope_is_accepted(client):
    enable_auth(scopes=["events"])
    assert get(client, auth=f"Bearer {SECURITY_TOKEN}").status_code == 200


@pytest.mark.unconfirmed
def test_auth_mode_202_answers_missing_authentication_token(client):
    enable_auth(mode="202")
    response = get(client)
    assert response.status_code == 202
    assert response.json() == {"error": "Event request failed (Missing authentication token)"}
    assert not events().exists()


@pytest.mark.unconfirmed
def test_auth_mode_202_answers_wrong_authentication_token(client):
    enable_auth(mode="202")
    response = get(client, auth="Bearer wrongwrongwrong")
    assert response.status_code == 202
    assert error_of(response) == "Event request failed (Wrong authentication token)"


def test_it_accepts_a_token_while_auth_is_off(client):
    registry.add_adjust_security_token(ADJUST_APP, SECURITY_TOKEN)
    assert get(client, auth="Bearer anything").status_code == 200


def test_auth_is_off_once_every_token_is_deactivated(client):
    enable_auth(active=False)
    assert get(client).status_code == 200


def test_auth_applies_only_to_the_enforced_scopes(client):
    enable_auth()
    registry.register_adjust_app(
        ADJUST_APP, auth_enabled=True, auth_enforced_scopes=["sessions"], lenient_devices=False
    )
    assert get(client).status_code == 200


def test_the_recorded_request_masks_the_security_token(client):
    enable_auth()
    get(client, auth=f"Bearer {SECURITY_TOKEN}")
    event = events().get()
    assert event.request_auth == "Bearer ••••b5oe"
    assert SECURITY_TOKEN not in str(event.__dict__)


def test_the_admin_lists_security_tokens_masked(admin_client):
    enable_auth()
    page = admin_client.get("/admin/emulator/emuadjustsecuritytoken/").content.decode()
    assert "••••b5oe" in page
    assert SECURITY_TOKEN not in page


# --- Event token --------------------------------------------------------------------------


def test_it_answers_400_for_an_unknown_event_token(client):
    response = get(client, event_token="abc123")
    assert response.status_code == 400
    assert error_of(response) == "Event request failed (Invalid event token)"


def test_it_answers_400_for_a_missing_event_token(client):
    assert error_of(get(client, event_token=None)) == "Event request failed (Invalid event token)"


def test_it_answers_400_for_an_event_token_of_another_app(client):
    response = get(client, event_token="xyzklm")
    assert response.status_code == 400
    assert error_of(response) == "Event request failed (Invalid event token)"


def test_it_answers_403_for_a_blocklisted_event_token(client):
    registry.add_adjust_event_token(ADJUST_APP, EVENT, blocklisted=True)
    response = get(client)
    assert response.status_code == 403
    assert error_of(response) == "Event request failed (Event token blocklisted)"


# --- Callback and partner parameters ------------------------------------------------------


def test_it_records_flat_string_callback_params(client):
    params = '{"order_id":"42","item_id":"[\\"76524\\",\\"62599\\"]"}'
    assert get(client, callback_params=params, partner_params='{"p":"1"}').status_code == 200
    event = events().get()
    assert event.callback_params == {"order_id": "42", "item_id": '["76524","62599"]'}
    assert event.partner_params == {"p": "1"}


def test_it_answers_400_for_nested_callback_params(client):
    response = get(client, callback_params='{"a":{"b":"c"}}')
    assert response.status_code == 400
    assert error_of(response) == "Event request failed (Invalid callback parameters)"


def test_it_answers_400_for_callback_params_that_are_an_array(client):
    assert get(client, callback_params='["a","b"]').status_code == 400


def test_it_answers_400_for_a_number_in_callback_params(client):
    assert get(client, callback_params='{"price":9.99}').status_code == 400


def test_it_answers_400_for_callback_params_that_were_not_url_encoded(client):
    raw = urlencode(adjust_params()) + '&callback_params={"q":"a&b"}'
    response = client.get(ADJUST_URL + "?" + raw)
    assert response.status_code == 400
    assert error_of(response) == "Event request failed (Invalid callback parameters)"


@pytest.mark.unconfirmed
def test_bad_partner_params_get_the_callback_message(client):
    response = get(client, partner_params='{"a":null}')
    assert response.status_code == 400
    assert error_of(response) == "Event request failed (Invalid callback parameters)"


@pytest.mark.unconfirmed
def test_an_empty_optional_parameter_counts_as_absent(client):
    response = get(client, callback_params="", revenue="", environment="", created_at="")
    assert response.status_code == 200
    assert events().get().environment == "production"


# --- Revenue and environment --------------------------------------------------------------


def test_it_records_revenue_and_currency(client):
    assert get(client, revenue="149.99", currency="EUR").status_code == 200
    event = events().get()
    assert (str(event.revenue.normalize()), event.currency) == ("149.99", "EUR")


def test_it_answers_400_for_malformed_revenue(client):
    response = get(client, revenue="abc", currency="EUR")
    assert response.status_code == 400
    assert error_of(response) == "Event request failed (Invalid revenue)"


def test_it_answers_400_for_revenue_over_100_billion(client):
    assert get(client, revenue="1e12", currency="EUR").status_code == 400


@pytest.mark.unconfirmed
def test_it_answers_400_for_revenue_below_the_minimum(client):
    assert error_of(get(client, revenue="0.0005", currency="EUR")) == "Event request failed (Invalid revenue)"


@pytest.mark.unconfirmed
def test_it_accepts_revenue_without_currency(client):
    assert get(client, revenue="1.00").status_code == 200


@pytest.mark.unconfirmed
def test_an_app_can_require_currency_with_revenue(client):
    registry.register_adjust_app(ADJUST_APP, require_currency_with_revenue=True, lenient_devices=False)
    assert error_of(get(client, revenue="1.00")) == "Event request failed (Invalid revenue)"


def test_the_environment_defaults_to_production(client):
    get(client)
    assert events().get().environment == "production"


def test_it_records_the_sandbox_environment(client):
    get(client, environment="sandbox")
    assert events().get().environment == "sandbox"


@pytest.mark.unconfirmed
def test_it_answers_400_for_an_unknown_environment(client):
    response = get(client, environment="staging")
    assert response.status_code == 400
    assert error_of(response) == "Event request failed (Invalid environment)"


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


# --- Over a real socket -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_accepts_a_form_post_over_http(live_server):
    response = requests.post(f"{live_server.url}{ADJUST_URL}", data=adjust_params(), timeout=5)
    assert response.status_code == 200
    assert response.json() == {"status": "OK"}
    assert events().count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_answers_413_over_http_without_reading_the_body(live_server):
    body = urlencode(adjust_params(padding="x" * 1_100_000))
    response = requests.post(
        f"{live_server.url}{ADJUST_URL}", data=body, headers={"Content-Type": FORM}, timeout=5
    )
    assert response.status_code == 413
    assert response.json() == {"error": "Event request failed (Request size too large)"}
