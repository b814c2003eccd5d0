"""Adjust: the rules for the app, the event token, and the event's fields but its time and device ids."""

import json

import pytest

from events.models import Platform
from events.providers import EventInvalid
from tests.adjust_provider_helpers import NOW, adjust, errors_of, event, validate
from tests.conftest import IDFA

# The app and the event token --------------------------------------------------------------------


def test_it_rejects_an_inactive_app(adjust_app):
    adjust_app.active = False
    adjust_app.save()
    assert "inactive" in errors_of(adjust_app, event())["app"][0]


def test_it_rejects_an_app_without_an_app_token(adjust_app):
    adjust_app.app_key = ""
    adjust_app.save()
    assert errors_of(adjust_app, event())["app"] == [
        "The app 'Demo Adjust iOS' has no App token; add it on the app's page."
    ]


def test_it_rejects_an_event_token_of_another_app(adjust_app, app_on):
    other = app_on(Platform.IOS)
    with pytest.raises(EventInvalid) as caught:
        adjust.validate(adjust_app, other.event_tokens.get(), event(), now=NOW)
    assert "belongs to another app" in caught.value.errors["event_token"][0]


def test_it_rejects_an_archived_event_token(adjust_app):
    adjust_app.event_tokens.filter(token="f0ob4r").update(archived_at=NOW)
    assert "is archived" in errors_of(adjust_app, event())["event_token"][0]


def test_it_rejects_an_unknown_field_so_typos_do_not_vanish(adjust_app):
    assert errors_of(adjust_app, event(revenu="1"))["revenu"] == ["Unknown field 'revenu' for Adjust."]


def test_it_ignores_fields_that_are_not_given(adjust_app):
    valid = validate(adjust_app, event(revenue="", currency=None, callback_params={}, ip_address=" "))
    assert set(valid.params) == {"idfa", "created_at_unix", "environment"}


def test_it_lists_every_problem_at_once(adjust_app):
    errors = errors_of(
        adjust_app,
        {"device_ids": {"idfa": "nope"}, "revenue": "abc", "ip_address": "::1", "environment": "staging"},
    )
    assert set(errors) == {"idfa", "revenue", "currency", "ip_address", "environment"}


# IP address -------------------------------------------------------------------------------------


def test_it_passes_an_ipv4_address(adjust_app):
    assert validate(adjust_app, event(ip_address="203.0.113.7")).params["ip_address"] == "203.0.113.7"


def test_it_rejects_an_ipv6_address(adjust_app):
    assert errors_of(adjust_app, event(ip_address="2001:db8::1"))["ip_address"] == [
        "Adjust accepts IPv4 addresses only (like 203.0.113.7); this is an IPv6 address."
    ]


def test_it_rejects_a_malformed_ip_address(adjust_app):
    assert errors_of(adjust_app, event(ip_address="203.0.113"))["ip_address"] == [
        "ip_address must be an IPv4 address like 203.0.113.7."
    ]


# Callback and partner parameters ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["callback_params", "partner_params"])
def test_it_encodes_parameters_like_adjusts_example(adjust_app, name):
    valid = validate(adjust_app, event(**{name: {"f0o": "bar", "bar": "baz"}}))
    assert valid.params[name] == '{"f0o":"bar", "bar":"baz"}'


@pytest.mark.parametrize("name", ["callback_params", "partner_params"])
def test_it_takes_parameters_as_json_text(adjust_app, name):
    valid = validate(adjust_app, event(**{name: '{"item_id": "[\\"76524\\",\\"62599\\"]"}'}))
    assert json.loads(valid.params[name]) == {"item_id": '["76524","62599"]'}


def test_it_keeps_non_latin_text_readable_in_parameters(adjust_app):
    assert (
        validate(adjust_app, event(callback_params={"city": "Zürich"})).params["callback_params"]
        == '{"city":"Zürich"}'
    )


@pytest.mark.parametrize("name", ["callback_params", "partner_params"])
@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ({"a": {"b": "c"}}, "an object"),
        ({"a": ["b"]}, "an array"),
        ({"a": 42}, "a number"),
        ({"a": True}, "a boolean"),
        ({"a": None}, "null"),
        ('{"a": 1.5}', "a number"),
    ],
)
def test_it_rejects_a_parameter_value_that_is_not_a_string(adjust_app, name, value, kind):
    message = errors_of(adjust_app, event(**{name: value}))[name][0]
    assert message.startswith(f"{name} value of 'a' is {kind}; only string values are allowed")


@pytest.mark.parametrize(
    ("value", "kind"), [("[1, 2]", "an array"), ('"text"', "a string"), ("7", "a number")]
)
def test_it_rejects_parameters_that_are_not_a_json_object(adjust_app, value, kind):
    message = errors_of(adjust_app, event(callback_params=value))["callback_params"][0]
    assert message == f'callback_params must be a JSON object like {{"key": "value"}}, not {kind}.'


def test_it_rejects_parameters_that_are_not_json(adjust_app):
    message = errors_of(adjust_app, event(partner_params="{'a': 'b'}"))["partner_params"][0]
    assert message.startswith("partner_params is not valid JSON")


def test_it_rejects_a_parameter_key_given_twice(adjust_app):
    errors = errors_of(adjust_app, event(callback_params='{"a": "1", "a": "2"}'))
    assert errors["callback_params"] == ["callback_params has the key 'a' twice; keep one."]


# Revenue, currency, environment ----------------------------------------------------------------


def test_it_keeps_the_revenue_as_given_but_for_surrounding_spaces(adjust_app):
    valid = validate(adjust_app, event(revenue=" 149.990 ", currency="USD"))
    assert (valid.params["revenue"], valid.params["currency"]) == ("149.990", "USD")


@pytest.mark.parametrize("revenue", ["0.001", "100000000000", "1"])
def test_it_accepts_revenue_within_adjusts_limits(adjust_app, revenue):
    assert validate(adjust_app, event(revenue=revenue, currency="EUR")).params["revenue"] == revenue


@pytest.mark.parametrize("revenue", ["0.0009", "0", "-1", "100000000000.01"])
def test_it_rejects_revenue_outside_adjusts_limits(adjust_app, revenue):
    assert (
        "from 0.001 to 100000000000"
        in errors_of(adjust_app, event(revenue=revenue, currency="EUR"))["revenue"][0]
    )


@pytest.mark.parametrize("revenue", ["1e3", "NaN", "Infinity", "1,50", "1.000,50", ".5", "5.", "abc"])
def test_it_rejects_revenue_that_is_not_a_plain_decimal(adjust_app, revenue):
    message = errors_of(adjust_app, event(revenue=revenue, currency="EUR"))["revenue"][0]
    assert message.startswith("revenue must be a plain decimal number like 149.99")


@pytest.mark.unconfirmed
def test_it_requires_a_currency_with_revenue(adjust_app):
    assert errors_of(adjust_app, event(revenue="1.5")) == {
        "currency": ["currency is required with revenue: an ISO 4217 code like EUR."]
    }


def test_it_requires_revenue_with_a_currency(adjust_app):
    assert errors_of(adjust_app, event(currency="EUR")) == {
        "revenue": ["revenue is required when a currency is given; give both or neither."]
    }


def test_it_rejects_a_lowercase_currency(adjust_app):
    assert errors_of(adjust_app, event(revenue="1", currency="eur"))["currency"] == [
        "currency must be an uppercase three-letter ISO 4217 code like EUR or USD (did you mean EUR?)."
    ]


def test_it_rejects_an_unknown_currency(adjust_app):
    assert errors_of(adjust_app, event(revenue="1", currency="ABC"))["currency"] == [
        "ABC is not an ISO 4217 currency code; use a code like EUR or USD."
    ]


def test_it_uses_the_apps_default_environment(adjust_app):
    assert validate(adjust_app, event()).environment == "sandbox"
    assert validate(adjust_app, event()).params["environment"] == "sandbox"


def test_it_sends_the_chosen_environment_and_warns_when_it_is_not_the_apps_default(adjust_app):
    valid = validate(adjust_app, event(environment="production"))
    assert (valid.environment, valid.params["environment"]) == ("production", "production")
    assert valid.warnings == (
        "This event goes to production while the app's default is sandbox: it counts as real data.",
    )


def test_it_rejects_an_unknown_environment(adjust_app):
    assert errors_of(adjust_app, event(environment="Production"))["environment"] == [
        "environment must be sandbox or production, not 'Production'."
    ]


@pytest.mark.unconfirmed
def test_it_leaves_os_name_optional_but_checks_a_given_one(adjust_app):
    assert "os_name" not in validate(adjust_app, event()).params
    assert (
        "os_name must be one of Adjust's names" in errors_of(adjust_app, event(os_name="iOS"))["os_name"][0]
    )


def test_it_rejects_a_request_over_one_megabyte(adjust_app):
    errors = errors_of(adjust_app, event(callback_params={"blob": "x" * (1024 * 1024)}))
    assert list(errors) == ["__all__"]
    assert "Adjust refuses requests over 1 MB" in errors["__all__"][0]


@pytest.mark.parametrize("name", ["os_version", "device_name", "device_type", "user_agent"])
def test_it_passes_the_recommended_device_fields_through(adjust_app, name):
    valid = adjust.validate(adjust_app, adjust_app.event_tokens.get(token="f0ob4r"),
                            {"device_ids": {"idfa": IDFA}, name: "iPhone 15 / 17.5"})  # fmt: skip
    assert valid.params[name] == "iPhone 15 / 17.5"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [({"att_status": "3"}, {"att_status": "3"}), ({"tracking_enabled": "0"}, {"tracking_enabled": "0"})],
)
def test_it_sends_one_tracking_status(adjust_app, fields, expected):
    valid = adjust.validate(
        adjust_app, adjust_app.event_tokens.get(token="f0ob4r"), {"device_ids": {"idfa": IDFA}, **fields}
    )
    assert {k: valid.params[k] for k in expected} == expected


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"att_status": "3", "tracking_enabled": "1"}, "not both"),
        ({"att_status": "4"}, "att_status must be 0, 1, 2 or 3"),
        ({"tracking_enabled": "yes"}, "tracking_enabled must be 1 or 0"),
    ],
)
def test_it_rejects_a_bad_tracking_status(adjust_app, fields, message):
    with pytest.raises(EventInvalid) as caught:
        adjust.validate(
            adjust_app, adjust_app.event_tokens.get(token="f0ob4r"), {"device_ids": {"idfa": IDFA}, **fields}
        )
    assert message in " ".join(caught.value.errors["att_status"])
