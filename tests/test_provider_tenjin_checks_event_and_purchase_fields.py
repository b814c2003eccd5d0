"""Tenjin: the rules for an event's fields and for a purchase's fields."""

import pytest

from events.models import App, EventKind, EventToken
from events.providers import EventInvalid
from tests.tenjin_provider_helpers import android_event, errors_of, purchase, tenjin, validate

# Event fields -----------------------------------------------------------------------------------


def test_it_requires_the_os_version(tenjin_app):
    assert errors_of(tenjin_app, android_event(os_version=""))["os_version"] == [
        "os_version is required: Android's SDK level (like 33) or iOS's version (like 17.5)."
    ]


def test_it_rejects_a_sandbox_environment(tenjin_app):
    assert errors_of(tenjin_app, android_event(environment="sandbox"))["environment"] == [
        "Tenjin has no sandbox; this event would count as real data — choose production."
    ]


def test_it_rejects_an_app_defaulting_to_sandbox(tenjin_app):
    tenjin_app.default_environment = "sandbox"
    tenjin_app.save()
    message = errors_of(tenjin_app, android_event())["environment"][0]
    assert message.startswith("Tenjin has no sandbox (the app's default environment)")


def test_it_rejects_an_event_time(tenjin_app):
    assert (
        "takes no event time"
        in errors_of(tenjin_app, android_event(created_at="1484085154"))["created_at"][0]
    )


def test_it_rejects_revenue_on_an_event(tenjin_app):
    assert errors_of(tenjin_app, android_event(revenue="1.5"))["revenue"] == [
        "Tenjin events take no revenue: use value (a whole number), or a purchase event with price and quantity."
    ]


@pytest.mark.parametrize("name", ["callback_params", "partner_params", "user_agent"])
def test_it_rejects_adjust_only_fields(tenjin_app, name):
    assert name in errors_of(tenjin_app, android_event(**{name: "x"}))


def test_it_rejects_an_unknown_field(tenjin_app):
    assert errors_of(tenjin_app, android_event(os_name="android"))["os_name"] == [
        "Unknown field 'os_name' for Tenjin."
    ]


def test_it_rejects_purchase_fields_on_an_event(tenjin_app):
    assert errors_of(tenjin_app, android_event(price="4.99"))["price"] == [
        "price belongs to purchases; this event is not a purchase (its kind is set on the event token)."
    ]


def test_it_rejects_an_event_name_of_80_characters(tenjin_app):
    tenjin_app.event_tokens.create(name="Long", token="x" * 80)
    message = errors_of(tenjin_app, android_event(), event_name="x" * 80)["event_token"][0]
    assert "Tenjin drops event names of 80 characters or more" in message


def test_it_accepts_an_event_name_of_79_characters(tenjin_app):
    tenjin_app.event_tokens.create(name="Long", token="x" * 79)
    assert validate(tenjin_app, android_event(), event_name="x" * 79)


@pytest.mark.unconfirmed
def test_it_sends_an_integer_value_as_value(tenjin_app):
    assert validate(tenjin_app, android_event(value=50)).params["value"] == "50"


@pytest.mark.parametrize("value", ["1.5", "1e3", "fifty"])
def test_it_rejects_a_value_that_is_not_a_whole_number(tenjin_app, value):
    assert errors_of(tenjin_app, android_event(value=value))["value"] == [
        "value must be a whole number like 50 (no decimals, no exponent)."
    ]


@pytest.mark.unconfirmed
def test_it_rejects_a_negative_value(tenjin_app):
    assert errors_of(tenjin_app, android_event(value="-5"))["value"] == [
        "value must be a whole number from 0 to 2147483647."
    ]


def test_it_rejects_a_value_beyond_the_sdks_integer(tenjin_app):
    assert "value" in errors_of(tenjin_app, android_event(value=str(2**31)))


def test_it_takes_the_optional_device_fields(tenjin_app):
    fields = android_event(ip_address="2001:db8::1", app_version="1.0.3", country="US", limit_ad_tracking="0")
    params = validate(tenjin_app, fields).params
    assert (params["ip_address"], params["app_version"], params["country"], params["limit_ad_tracking"]) == (
        "2001:db8::1",
        "1.0.3",
        "US",
        "0",
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [("ip_address", "300.1.1.1"), ("country", "us"), ("country", "USA"), ("limit_ad_tracking", "yes")],
)
def test_it_rejects_malformed_optional_fields(tenjin_app, name, value):
    assert name in errors_of(tenjin_app, android_event(**{name: value}))


# Purchases --------------------------------------------------------------------------------------


def validate_purchase(app: App, fields: dict):
    return tenjin.validate(app, app.event_tokens.get(token="purchase"), fields)


def purchase_errors(app: App, fields: dict) -> dict[str, list[str]]:
    with pytest.raises(EventInvalid) as caught:
        validate_purchase(app, fields)
    return caught.value.errors


def test_it_keeps_the_purchase_fields(tenjin_app):
    params = validate_purchase(tenjin_app, purchase(signature="c2ln")).params
    assert {k: params[k] for k in ("product_id", "currency", "quantity", "price", "signature")} == {
        "product_id": "gems_100",
        "currency": "USD",
        "quantity": "2",
        "price": "4.99",
        "signature": "c2ln",
    }


@pytest.mark.unconfirmed
@pytest.mark.parametrize("name", ["product_id", "currency", "quantity", "price"])
def test_it_requires_each_purchase_field(tenjin_app, name):
    assert purchase_errors(tenjin_app, purchase(**{name: ""}))[name][0].startswith(f"{name} is required: ")


@pytest.mark.parametrize("quantity", ["0", "-1", "1.5"])
def test_it_rejects_a_quantity_below_one_or_fractional(tenjin_app, quantity):
    assert "quantity" in purchase_errors(tenjin_app, purchase(quantity=quantity))


@pytest.mark.parametrize("price", ["0", "-4.99", "0.00"])
def test_it_rejects_a_price_that_is_not_positive(tenjin_app, price):
    assert purchase_errors(tenjin_app, purchase(price=price))["price"] == [
        "price must be more than 0: Tenjin takes no negative or zero revenue (send refunds elsewhere)."
    ]


def test_it_rejects_a_currency_that_is_not_iso_4217(tenjin_app):
    assert (
        "not an ISO 4217 currency code"
        in purchase_errors(tenjin_app, purchase(currency="XYZ"))["currency"][0]
    )


@pytest.mark.parametrize(("name", "value"), [("revenue", "9.98"), ("value", "5")])
def test_it_rejects_revenue_and_value_on_a_purchase(tenjin_app, name, value):
    assert "price and quantity" in purchase_errors(tenjin_app, purchase(**{name: value}))[name][0]


def test_it_does_not_limit_the_length_of_a_purchase_token(tenjin_app):
    EventToken.objects.filter(app=tenjin_app, token="purchase").update(
        token="p" * 90, kind=EventKind.PURCHASE
    )
    token = tenjin_app.event_tokens.get(token="p" * 90)
    assert tenjin.validate(tenjin_app, token, purchase())
