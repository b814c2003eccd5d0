"""Tenjin: the request an event becomes."""

import base64
from urllib.parse import parse_qsl

import pytest

from events.models import App
from tests.conftest import TENJIN_ADVERTISING_ID, TENJIN_IDFV, TENJIN_INSTALLATION_ID, TENJIN_SDK_KEY
from tests.tenjin_provider_helpers import android_event, create_ios_app, ios_event, purchase, tenjin, validate


@pytest.fixture(name="ios_app")
def ios_app_fixture(db) -> App:
    return create_ios_app()


# The request ------------------------------------------------------------------------------------


def test_it_posts_an_event_form_with_basic_auth_and_no_api_key(tenjin_app, settings):
    settings.TENJIN_BASE_URL = "https://track.tenjin.com/"
    valid = validate(tenjin_app, android_event(value="50"))
    request = tenjin.build(tenjin_app, tenjin_app.event_tokens.get(token="level_up"), valid.params)
    assert (request.method, request.url) == ("POST", "https://track.tenjin.com/v0/event")
    assert request.headers == {
        "Content-Type": "application/x-www-form-urlencoded",
        "Authorization": "Basic " + base64.b64encode(f"{TENJIN_SDK_KEY}:".encode()).decode(),
    }
    assert request.secrets == (TENJIN_SDK_KEY,)
    assert parse_qsl(request.body.decode()) == [
        ("bundle_id", "com.tenjin.wordfinder"),
        ("platform", "android"),
        ("sdk_version", "server"),
        ("os_version", "33"),
        ("advertising_id", TENJIN_ADVERTISING_ID),
        ("analytics_installation_id", TENJIN_INSTALLATION_ID),
        ("event", "level_up"),
        ("value", "50"),
    ]
    assert TENJIN_SDK_KEY not in request.url + request.body.decode()


def test_it_posts_a_purchase_to_the_purchase_endpoint_without_an_event_name(tenjin_app, settings):
    settings.TENJIN_BASE_URL = "https://track.tenjin.com"
    token = tenjin_app.event_tokens.get(token="purchase")
    valid = tenjin.validate(tenjin_app, token, purchase(receipt="{}", country="US"))
    request = tenjin.build(tenjin_app, token, valid.params)
    assert request.url == "https://track.tenjin.com/v0/purchase"
    names = [name for name, _ in parse_qsl(request.body.decode(), keep_blank_values=True)]
    assert names == [
        "bundle_id",
        "platform",
        "sdk_version",
        "os_version",
        "advertising_id",
        "analytics_installation_id",
        "product_id",
        "currency",
        "quantity",
        "price",
        "receipt",
        "country",
    ]


def test_its_params_hold_no_secret_and_none_of_the_fixed_parameters(tenjin_app):
    valid = validate(tenjin_app, android_event())
    assert set(valid.params) == {"advertising_id", "analytics_installation_id", "os_version"}
    assert (valid.environment, valid.event_time, valid.device_id_type) == (
        "production",
        None,
        "advertising_id",
    )


def test_it_sends_an_empty_advertising_id_on_ios_without_one(ios_app):
    fields = ios_event()
    del fields["device_ids"]["advertising_id"]
    valid = validate(ios_app, fields)
    body = tenjin.build(ios_app, ios_app.event_tokens.get(), valid.params).body.decode()
    assert ("advertising_id", "") in parse_qsl(body, keep_blank_values=True)
    assert (valid.device_id_type, valid.device_id) == ("developer_device_id", TENJIN_IDFV)
