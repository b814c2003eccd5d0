"""What both providers promise beyond validate/build/classify: app rules and round-tripping."""

from datetime import UTC, datetime

import pytest

from events.models import App, Platform, Provider
from events.providers import get_provider
from tests.conftest import IDFA, TENJIN_ADVERTISING_ID, TENJIN_INSTALLATION_ID

pytestmark = pytest.mark.django_db


def test_an_adjust_app_token_with_other_characters_is_refused():
    app = App(provider=Provider.ADJUST, platform=Platform.IOS, app_key="4W565-xzmb54d ")
    errors, _ = get_provider(app).validate_app(app)
    assert "lowercase letters and digits" in errors["app_key"][0]


@pytest.mark.unconfirmed
def test_an_adjust_app_token_of_another_length_only_warns():
    app = App(provider=Provider.ADJUST, platform=Platform.IOS, app_key="abc123kuvada7")
    errors, warnings = get_provider(app).validate_app(app)
    assert errors == {}
    assert warnings == ["Adjust app tokens are usually 12 characters; this one has 13."]


def test_a_tenjin_app_needs_a_bundle_id_a_tenjin_platform_and_production():
    app = App(
        provider=Provider.TENJIN, platform=Platform.WEB, app_key="K" * 32, default_environment="sandbox"
    )
    errors, _ = get_provider(app).validate_app(app)
    assert set(errors) == {"platform", "bundle_id", "default_environment"}


@pytest.mark.parametrize(
    "fields",
    [
        {"device_ids": {"idfa": IDFA}, "callback_params": {"a": "1"}, "partner_params": {"b": "2"},
         "revenue": "4.99", "currency": "EUR", "environment": "sandbox", "ip_address": "203.0.113.7"},
        {"device_ids": {"idfa": IDFA}, "created_at": "2026-11-20T10:00:00Z+0000", "environment": "production"},
    ],
)  # fmt: skip
def test_adjust_fields_survive_validate_then_to_fields(adjust_app, fields):
    provider = get_provider(adjust_app)
    token = adjust_app.event_tokens.get(token="f0ob4r")
    # The clock the validation reads is pinned a day after the event's time: the test must not
    # start failing once 2026-11-20 is more than 58 days in the past.
    now = datetime(2026, 11, 21, tzinfo=UTC)
    valid = provider.validate(adjust_app, token, fields, now=now)
    again = provider.validate(adjust_app, token, provider.to_fields(valid.params), now=now)
    assert again.params == valid.params


def test_tenjin_fields_survive_validate_then_to_fields(tenjin_app):
    provider = get_provider(tenjin_app)
    token = tenjin_app.event_tokens.get(token="purchase")
    fields = {
        "device_ids": {"advertising_id": TENJIN_ADVERTISING_ID, "analytics_installation_id": TENJIN_INSTALLATION_ID},
        "os_version": "33", "product_id": "gems", "quantity": "2", "price": "0.99", "currency": "USD",
    }  # fmt: skip
    valid = provider.validate(tenjin_app, token, fields)
    assert provider.validate(tenjin_app, token, provider.to_fields(valid.params)).params == valid.params


def test_device_id_types_follow_the_apps_platform(adjust_app, tenjin_app):
    adjust_types = get_provider(adjust_app).device_id_types(adjust_app)
    assert adjust_types[0] == "idfa" and "gps_adid" not in adjust_types
    assert get_provider(tenjin_app).device_id_types(tenjin_app) == [
        "advertising_id", "developer_device_id", "analytics_installation_id",
    ]  # fmt: skip
