"""The Tenjin /v0/event and /v0/purchase emulator: the §5.4 matrix of mmp-apis.md."""

from urllib.parse import urlencode

import pytest
import requests
from django.test import override_settings

from events.emulator import registry
from events.emulator.models import EmuTenjinApp, EmuTenjinEventName
from tests.emulator_fixtures import (
    ADVERTISING_ID,
    ANDROID_KEY,
    BUNDLE,
    INSTALLATION_ID,
    IOS_KEY,
    TENJIN_EVENT_URL,
    TENJIN_IDFV,
    TENJIN_PURCHASE_URL,
    basic,
    emu_tenjin,  # noqa: F401 - a fixture
    purchase_params,
    tenjin_params,
)

FORM = "application/x-www-form-urlencoded"
ZEROS = "00000000-0000-0000-0000-000000000000"
pytestmark = pytest.mark.usefixtures("emu_tenjin")


def post(client, params, url=TENJIN_EVENT_URL, key: str | None = ANDROID_KEY):
    """A form POST authenticated the Android SDK's way: the key as the Basic-auth user name."""
    headers = {"HTTP_AUTHORIZATION": basic(key)} if key else {}
    return client.post(url, urlencode(params), content_type=FORM, **headers)


def answer(response) -> tuple[int, dict]:
    return response.status_code, response.json()


def events(**filters):
    return registry.recorded_events("tenjin", **filters)


OK = (200, {"code": 200, "success": True})


# --- Authentication and app lookup --------------------------------------------------------


def test_it_accepts_the_sdk_key_as_the_basic_auth_user_name(client):
    response = post(client, tenjin_params())
    assert answer(response) == OK
    assert response["Content-Type"] == "application/json; charset=utf-8"
    [event] = events()
    assert (event.app_key, event.platform, event.kind) == (BUNDLE, "android", "open")


def test_it_accepts_the_sdk_key_as_api_key(client):
    assert answer(post(client, tenjin_params(api_key=ANDROID_KEY), key=None)) == OK


@pytest.mark.unconfirmed
def test_basic_auth_wins_over_api_key(client):
    response = post(client, tenjin_params(api_key=ANDROID_KEY), key=IOS_KEY)
    assert answer(response) == (401, {"code": 401, "message": "unauthorized"})


@pytest.mark.unconfirmed
def test_it_ignores_a_basic_auth_password(client):
    params = urlencode(tenjin_params())
    response = client.post(
        TENJIN_EVENT_URL, params, content_type=FORM, HTTP_AUTHORIZATION=basic(ANDROID_KEY, "secret")
    )
    assert answer(response) == OK


def test_it_answers_401_without_a_key(client):
    assert answer(post(client, tenjin_params(), key=None)) == (401, {"code": 401, "message": "unauthorized"})


def test_it_answers_401_for_the_ios_key_on_the_android_app(client):
    assert answer(post(client, tenjin_params(), key=IOS_KEY)) == (
        401,
        {"code": 401, "message": "unauthorized"},
    )


def test_an_account_level_key_works_for_each_of_its_apps(client):
    apps = [(BUNDLE, "ios"), (BUNDLE, "android")]
    registry.add_tenjin_key("ACCOUNTLEVELKEY00000000000000000", apps, account_level=True)
    for platform in ("ios", "android"):
        assert answer(post(client, tenjin_params(platform), key="ACCOUNTLEVELKEY00000000000000000")) == OK


def test_it_answers_404_for_an_unknown_bundle_id(client):
    response = post(client, tenjin_params(bundle_id="com.example.other"))
    assert answer(response) == (404, {"code": 404, "message": "no such app"})


@pytest.mark.unconfirmed
def test_it_answers_404_when_the_platform_is_missing(client):
    assert post(client, tenjin_params(platform=None)).status_code == 404


def test_it_answers_202_not_logged_for_a_disabled_key(client):
    registry.set_tenjin_key_enabled(ANDROID_KEY, False)
    assert answer(post(client, tenjin_params())) == (202, {"code": 202, "message": "not logged"})
    assert not events().exists()


def test_it_answers_404_when_the_emulator_is_disabled(client):
    with override_settings(EMULATOR_ENABLED=False):
        assert post(client, tenjin_params()).status_code == 404
        assert post(client, purchase_params(), url=TENJIN_PURCHASE_URL).status_code == 404


def test_it_accepts_a_get(client):
    assert answer(client.get(TENJIN_EVENT_URL, tenjin_params(api_key=ANDROID_KEY))) == OK


def test_it_answers_405_to_other_methods(client):
    assert client.delete(TENJIN_EVENT_URL).status_code == 405


def test_the_recorded_request_masks_the_key(client):
    client.get(TENJIN_EVENT_URL, tenjin_params(api_key=ANDROID_KEY))
    post(client, tenjin_params())
    for event in events():
        assert ANDROID_KEY not in str(event.__dict__)
    assert {e.request_auth for e in events()} == {"", "Basic ••••3456"}
    assert "api_key=••••3456" in events().first().request_query


def test_the_admin_lists_sdk_keys_masked(admin_client):
    page = admin_client.get("/admin/emulator/emutenjinkey/").content.decode()
    assert "••••3456" in page
    assert ANDROID_KEY not in page


# --- Required fields and device identifiers -----------------------------------------------


@pytest.mark.unconfirmed
def test_it_answers_400_for_a_missing_installation_id(client):
    response = post(client, tenjin_params(analytics_installation_id=None))
    assert answer(response) == (400, {"code": 400, "message": "missing parameter: analytics_installation_id"})


@pytest.mark.unconfirmed
def test_it_answers_400_for_a_missing_sdk_version(client):
    assert post(client, tenjin_params(sdk_version="")).json()["message"] == "missing parameter: sdk_version"


def test_a_lenient_app_accepts_missing_required_fields(client):
    registry.register_tenjin_app(BUNDLE, "android", lenient=True)
    assert answer(post(client, tenjin_params(os_version=None, sdk_version=None))) == OK


def test_it_answers_202_for_android_without_an_advertising_id(client):
    response = post(client, tenjin_params(advertising_id=None))
    assert answer(response) == (202, {"code": 202, "message": "invalid device identifier"})


def test_it_answers_202_for_android_with_a_zeroed_advertising_id(client):
    assert post(client, tenjin_params(advertising_id=ZEROS)).status_code == 202


def test_it_accepts_ios_with_a_zeroed_idfa_and_an_idfv(client):
    assert answer(post(client, tenjin_params("ios", advertising_id=ZEROS), key=IOS_KEY)) == OK
    assert events().get().device_ids == {
        "advertising_id": ZEROS,
        "developer_device_id": TENJIN_IDFV,
        "analytics_installation_id": INSTALLATION_ID,
    }


def test_it_answers_202_for_ios_with_a_zeroed_idfa_and_no_idfv(client):
    params = tenjin_params("ios", advertising_id=ZEROS, developer_device_id=None)
    response = post(client, params, key=IOS_KEY)
    assert answer(response) == (202, {"code": 202, "message": "invalid device identifier"})


def test_it_answers_202_for_ios_without_an_idfv(client):
    assert post(client, tenjin_params("ios", developer_device_id=""), key=IOS_KEY).status_code == 202


@pytest.mark.unconfirmed
def test_it_answers_202_for_a_malformed_advertising_id(client):
    assert post(client, tenjin_params(advertising_id="not-an-id")).status_code == 202


@pytest.mark.unconfirmed
def test_it_accepts_an_advertising_id_without_hyphens(client):
    assert answer(post(client, tenjin_params(advertising_id=ADVERTISING_ID.replace("-", "")))) == OK


def test_it_answers_202_ignored_for_an_app_version_rule(client):
    registry.register_tenjin_app(BUNDLE, "android", ignored_versions=["1.0.*"])
    assert answer(post(client, tenjin_params())) == (202, {"code": 202, "message": "ignored"})
    assert answer(post(client, tenjin_params(app_version="1.1.0"))) == OK


# --- Opens and custom events --------------------------------------------------------------


def test_a_request_without_event_is_recorded_as_an_open(client):
    post(client, tenjin_params())
    assert events().get().kind == "open"


def test_a_request_with_event_is_recorded_as_a_custom_event(client):
    assert answer(post(client, tenjin_params(event="level_up", value="5"))) == OK
    event = events().get()
    assert (event.kind, event.event_token, event.value) == ("event", "level_up", 5)


@pytest.mark.unconfirmed
def test_an_event_name_of_80_characters_is_ignored(client):
    assert answer(post(client, tenjin_params(event="x" * 79))) == OK
    assert answer(post(client, tenjin_params(event="y" * 80))) == (202, {"code": 202, "message": "ignored"})


@pytest.mark.unconfirmed
def test_the_501st_distinct_event_name_is_ignored(client):
    android = EmuTenjinApp.objects.get(bundle_id=BUNDLE, platform="android")
    EmuTenjinEventName.objects.bulk_create(
        [EmuTenjinEventName(app=android, name=f"e{n}") for n in range(499)]
    )
    assert answer(post(client, tenjin_params(event="the_500th"))) == OK
    assert answer(post(client, tenjin_params(event="the_501st"))) == (
        202,
        {"code": 202, "message": "ignored"},
    )
    assert answer(post(client, tenjin_params(event="e7"))) == OK
    assert android.event_names.count() == 500


@pytest.mark.unconfirmed
def test_a_non_integer_value_is_dropped_but_the_event_kept(client):
    assert answer(post(client, tenjin_params(event="level_up", value="4.5"))) == OK
    assert events().get().value is None


@pytest.mark.unconfirmed
def test_a_value_beyond_64_bits_is_dropped_but_the_event_kept(client):
    assert answer(post(client, tenjin_params(event="level_up", value="9" * 30))) == OK
    assert events().get().value is None


# --- Purchases ----------------------------------------------------------------------------


def test_it_records_a_purchase_with_gross_revenue(client):
    assert answer(post(client, purchase_params(), url=TENJIN_PURCHASE_URL)) == OK
    event = events().get()
    assert (event.kind, str(event.revenue.normalize()), event.currency) == ("purchase", "1.98", "USD")
    assert event.params["product_id"] == "com.tenjin.coins100"


@pytest.mark.unconfirmed
def test_it_answers_400_for_a_purchase_without_currency(client):
    response = post(client, purchase_params(currency=None), url=TENJIN_PURCHASE_URL)
    assert answer(response) == (400, {"code": 400, "message": "missing parameter: currency"})


@pytest.mark.unconfirmed
def test_it_answers_400_for_a_lowercase_currency(client):
    response = post(client, purchase_params(currency="usd"), url=TENJIN_PURCHASE_URL)
    assert response.json()["message"] == "invalid parameter: currency"


@pytest.mark.unconfirmed
def test_it_answers_400_for_a_negative_price(client):
    response = post(client, purchase_params(price="-0.99"), url=TENJIN_PURCHASE_URL)
    assert answer(response) == (400, {"code": 400, "message": "invalid parameter: price"})
    assert not events().exists()


@pytest.mark.unconfirmed
def test_it_answers_400_for_an_absurd_purchase_total(client):
    response = post(client, purchase_params(price="1e12", quantity="1000"), url=TENJIN_PURCHASE_URL)
    assert response.json()["message"] == "invalid parameter: price"


@pytest.mark.unconfirmed
def test_it_answers_400_for_a_zero_quantity(client):
    response = post(client, purchase_params(quantity="0"), url=TENJIN_PURCHASE_URL)
    assert response.json()["message"] == "invalid parameter: quantity"


@pytest.mark.unconfirmed
def test_it_answers_400_for_a_purchase_without_product_id(client):
    response = post(client, purchase_params(product_id=None), url=TENJIN_PURCHASE_URL)
    assert response.json()["message"] == "missing parameter: product_id"


def test_it_records_a_duplicate_purchase_twice(client):
    params = purchase_params(transaction_id="1000000123456789")
    post(client, params, url=TENJIN_PURCHASE_URL)
    post(client, params, url=TENJIN_PURCHASE_URL)
    assert events(kind="purchase").count() == 2


def test_a_purchase_goes_through_the_same_key_checks(client):
    registry.set_tenjin_key_enabled(ANDROID_KEY, False)
    response = post(client, purchase_params(), url=TENJIN_PURCHASE_URL)
    assert answer(response) == (202, {"code": 202, "message": "not logged"})


def test_a_purchase_keeps_no_receipt_but_notes_it_is_unvalidated(client):
    post(
        client, purchase_params(receipt="eyJ0aGUiOiJyZWNlaXB0In0=", signature="sig"), url=TENJIN_PURCHASE_URL
    )
    params = events().get().params
    assert params["receipt_validated"] == "unknown"
    assert "receipt" not in params
    assert "signature" not in params


@pytest.mark.unconfirmed
def test_it_accepts_a_purchase_by_get(client):
    response = client.get(TENJIN_PURCHASE_URL, purchase_params(api_key=ANDROID_KEY))
    assert answer(response) == OK


@pytest.mark.unconfirmed
@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_it_answers_413_for_a_body_django_would_refuse(client):
    response = post(client, tenjin_params(padding="x" * 2000))
    assert answer(response) == (413, {"code": 413, "message": "request too large"})


def test_registering_the_same_app_twice_changes_nothing(client):
    registry.register_tenjin_app(BUNDLE, "android", sdk_keys=[ANDROID_KEY])
    assert answer(post(client, tenjin_params())) == OK


# --- Over a real socket -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_accepts_a_form_post_with_basic_auth_over_http(live_server):
    response = requests.post(
        f"{live_server.url}{TENJIN_PURCHASE_URL}", data=purchase_params(), auth=(ANDROID_KEY, ""), timeout=5
    )
    assert (response.status_code, response.json()) == OK
    assert events(kind="purchase").count() == 1
