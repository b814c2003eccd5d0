"""Tenjin: the rules for the app and for the device ids an event carries."""

import pytest

from events.models import App, Platform
from tests.conftest import TENJIN_ADVERTISING_ID
from tests.tenjin_provider_helpers import ZEROS, android_event, create_ios_app, errors_of, ios_event, validate


@pytest.fixture(name="ios_app")
def ios_app_fixture(db) -> App:
    return create_ios_app()


# The app ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", [Platform.WINDOWS, Platform.WEB])
def test_it_rejects_a_platform_tenjin_does_not_take(tenjin_app, platform):
    tenjin_app.platform = platform
    tenjin_app.save()
    assert (
        "Tenjin takes the platforms ios, android, amazon and android_other"
        in errors_of(tenjin_app, android_event())["app"][0]
    )


def test_it_requires_a_bundle_id(tenjin_app):
    tenjin_app.bundle_id = ""
    tenjin_app.save()
    assert errors_of(tenjin_app, android_event())["app"] == [
        "Tenjin finds the app by bundle id and platform: set the bundle id of 'Demo Tenjin Android'."
    ]


def test_it_rejects_an_app_without_an_sdk_key(tenjin_app):
    tenjin_app.app_key = ""
    tenjin_app.save()
    assert "has no SDK key" in errors_of(tenjin_app, android_event())["app"][0]


def test_it_rejects_an_archived_event(tenjin_app):
    tenjin_app.event_tokens.filter(token="level_up").update(archived_at="2026-01-01T00:00Z")
    assert "is archived" in errors_of(tenjin_app, android_event())["event_token"][0]


# Device ids -------------------------------------------------------------------------------------


def test_it_requires_the_analytics_installation_id(tenjin_app):
    fields = android_event()
    del fields["device_ids"]["analytics_installation_id"]
    assert (
        "analytics_installation_id is required"
        in errors_of(tenjin_app, fields)["analytics_installation_id"][0]
    )


@pytest.mark.unconfirmed
@pytest.mark.parametrize("name", ["advertising_id", "developer_device_id", "analytics_installation_id"])
@pytest.mark.parametrize(
    "value",
    [
        "29eeb1610fe74997b6d53f02e9711f8c",
        "29EEB161-0FE7-4997-B6D5-3F02E9711F8C",
        "91d1c313-dd94-4bd3-bbbb-16c8b7afa054",
    ],
)
def test_it_accepts_ids_as_uuids_with_or_without_hyphens(ios_app, name, value):
    fields = ios_event()
    fields["device_ids"][name] = value
    assert validate(ios_app, fields).params[name] == value


@pytest.mark.parametrize("name", ["advertising_id", "developer_device_id", "analytics_installation_id"])
@pytest.mark.parametrize(
    "value", ["29eeb1610fe74997b6d53f02e9711f8", "not-an-id", "29eeb161-0fe74997-b6d5-3f02e9711f8c"]
)
def test_it_rejects_ids_that_are_not_uuids(ios_app, name, value):
    fields = ios_event()
    fields["device_ids"][name] = value
    assert errors_of(ios_app, fields)[name][0].startswith(
        f"{name} must be a UUID, with or without hyphens, like"
    )


def test_it_rejects_a_device_id_type_tenjin_does_not_take(tenjin_app):
    fields = android_event()
    fields["device_ids"]["gps_adid"] = TENJIN_ADVERTISING_ID
    assert errors_of(tenjin_app, fields)["device_ids"] == [
        "'gps_adid' is not a Tenjin device id; Tenjin takes advertising_id, developer_device_id, analytics_installation_id."
    ]


@pytest.mark.parametrize("platform", [Platform.ANDROID, Platform.AMAZON, Platform.ANDROID_OTHER])
def test_it_requires_an_advertising_id_outside_ios(tenjin_app, platform):
    tenjin_app.platform = platform
    tenjin_app.save()
    fields = android_event()
    fields["device_ids"]["advertising_id"] = ""
    assert "advertising_id is required outside iOS" in errors_of(tenjin_app, fields)["advertising_id"][0]


def test_it_rejects_an_all_zero_advertising_id_outside_ios(tenjin_app):
    fields = android_event()
    fields["device_ids"]["advertising_id"] = "0" * 32
    assert "accepted on iOS only" in errors_of(tenjin_app, fields)["advertising_id"][0]


@pytest.mark.parametrize("advertising_id", [ZEROS, "0" * 32, ""])
def test_it_accepts_an_empty_or_zero_advertising_id_on_ios_with_the_idfv(ios_app, advertising_id):
    fields = ios_event()
    fields["device_ids"]["advertising_id"] = advertising_id
    valid = validate(ios_app, fields)
    assert valid.params["advertising_id"] == advertising_id
    assert valid.device_id_type == "developer_device_id"


def test_it_requires_the_idfv_on_ios_even_with_an_idfa(ios_app):
    fields = ios_event()
    fields["device_ids"]["advertising_id"] = "D2CADB5F-410F-4963-AC0C-2A78534BDF1E"
    del fields["device_ids"]["developer_device_id"]
    assert (
        "developer_device_id (the IDFV) is required on iOS"
        in errors_of(ios_app, fields)["developer_device_id"][0]
    )


def test_it_indexes_the_advertising_id_when_there_is_one(ios_app):
    fields = ios_event()
    fields["device_ids"]["advertising_id"] = "D2CADB5F-410F-4963-AC0C-2A78534BDF1E"
    assert validate(ios_app, fields).device_id_type == "advertising_id"
