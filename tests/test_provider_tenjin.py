"""Tenjin: the rules an event must meet, the request it becomes, and what Tenjin's answers mean."""

import base64
import json
from urllib.parse import parse_qsl

import pytest

from events.models import App, EventKind, EventToken, Outcome, Platform, Provider
from events.providers import EventInvalid, get_provider
from events.providers.answers import find_rule
from events.providers.tenjin_answers import TENJIN_ANSWERS, documented_success, tenjin_said
from events.transport import HttpAnswer, TransportError
from tests.answer_expectations import TRANSPORT_EXPECTED
from tests.conftest import TENJIN_ADVERTISING_ID, TENJIN_IDFV, TENJIN_INSTALLATION_ID, TENJIN_SDK_KEY

tenjin = get_provider(Provider.TENJIN)
ZEROS = "00000000-0000-0000-0000-000000000000"


def validate(app: App, fields: dict, *, event_name: str = "level_up"):
    return tenjin.validate(app, app.event_tokens.get(token=event_name), fields)


def errors_of(app: App, fields: dict, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(EventInvalid) as caught:
        validate(app, fields, **kwargs)
    return caught.value.errors


def android_event(**fields) -> dict:
    ids = {"advertising_id": TENJIN_ADVERTISING_ID, "analytics_installation_id": TENJIN_INSTALLATION_ID}
    return {"device_ids": ids, "os_version": "33", **fields}


def ios_event(**fields) -> dict:
    ids = {
        "advertising_id": ZEROS,
        "developer_device_id": TENJIN_IDFV,
        "analytics_installation_id": TENJIN_INSTALLATION_ID,
    }
    return {"device_ids": ids, "os_version": "17.5", **fields}


def purchase(**fields) -> dict:
    return android_event(
        **{"product_id": "gems_100", "currency": "USD", "quantity": "2", "price": "4.99", **fields}
    )


@pytest.fixture
def ios_app(db) -> App:
    app = App.objects.create(
        name="Demo Tenjin iOS",
        provider=Provider.TENJIN,
        platform=Platform.IOS,
        app_key="ABCDEFGHIJKLMNOPQRSTUVWXYZ123456",
        bundle_id="com.tenjin.wordfinder",
        default_environment="production",
    )
    EventToken.objects.create(app=app, name="Level up", token="level_up")
    return app


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


# Answers ----------------------------------------------------------------------------------------


def answer(status: int, body: str = "", headers: dict | None = None) -> HttpAnswer:
    return HttpAnswer(
        status=status, headers=headers or {}, body=body.encode(), truncated=False, duration_ms=9.0
    )


def said(status: int, message: str) -> str:
    return json.dumps({"code": status, "message": message})


D, R, P = Outcome.DELIVERED, Outcome.RETRY, Outcome.PERMANENT
# What each answer means, written out as Tenjin documents it (mmp-apis.md §2.6: "a 202 is not a
# success"), not read from the table under test: (HTTP status, body, outcome, may it be recorded).
TENJIN_DOCUMENTED = [
    (200, '{"code":200,"success":true}', D, False),
    (200, '{"message": "something new"}', P, True),  # a 200 that does not say success: flagged
    (202, said(202, "invalid device identifier"), P, False),
    (202, said(202, "not logged"), P, False),
    (202, said(202, "ignored"), P, False),
    (202, '{"message": "something new"}', P, False),
    (401, said(401, "unauthorized"), P, False),
    (401, '{"message": "something new"}', P, False),
    (404, said(404, "no such app"), P, False),
    (400, '{"message": "something new"}', P, False),
    (302, "", P, False),  # a redirect is not followed
    (429, "", R, False),
    (502, "", R, False),  # Tenjin is not known to record an event it answered 5xx for
    (418, '{"message": "something new"}', P, False),
    (204, "", P, True),
    (100, "", P, False),
]


@pytest.mark.parametrize(("status", "body", "outcome", "ambiguous"), TENJIN_DOCUMENTED)
def test_each_documented_tenjin_answer_gets_its_documented_outcome(status, body, outcome, ambiguous):
    verdict = tenjin.classify(answer(status, body, {"Location": "https://elsewhere.example/v0/event"}))
    assert (verdict.outcome, verdict.ambiguous) == (outcome, ambiguous)
    assert (
        verdict.explanation
        and "{status}" not in verdict.explanation
        and "{location}" not in verdict.explanation
    )


def test_the_documented_answers_reach_every_row_of_the_tenjin_table():
    reached = {
        id(
            find_rule(
                TENJIN_ANSWERS,
                status,
                tenjin_said(reply := answer(status, body))[0],
                success=documented_success(reply),
            )
        )
        for status, body, _, _ in TENJIN_DOCUMENTED
    }
    assert reached == {id(rule) for rule in TENJIN_ANSWERS}


@pytest.mark.parametrize("body", ['{"code":200,"success":true}', '{"code":200}', '{"success": true}'])
def test_it_calls_a_200_with_success_or_code_200_delivered(body):
    assert tenjin.classify(answer(200, body)).outcome == Outcome.DELIVERED


# (status, body, outcome, ambiguous): only Tenjin's documented {"code": 200} / {"success": true}.
TENJIN_VERDICTS = [
    (200, '{"code":200,"success":true}', Outcome.DELIVERED, False),
    (200, '{"code": 200}', Outcome.DELIVERED, False),
    (200, '{"success": true}', Outcome.DELIVERED, False),
    (200, '{"message": "success? no, ignored"}', Outcome.PERMANENT, True),
    (200, '{"message": "successfully dropped"}', Outcome.PERMANENT, True),
    (200, "success", Outcome.PERMANENT, True),
    (200, '{"code": 200, "success": false}', Outcome.PERMANENT, True),
    (200, '{"code": 200, "error": "not logged"}', Outcome.PERMANENT, True),
    (200, '{"success": "true"}', Outcome.PERMANENT, True),
    (200, '{"code": "200 but ignored"}', Outcome.PERMANENT, True),
    (200, '{"code": true}', Outcome.PERMANENT, True),
    (200, '{"status": "OK"}', Outcome.PERMANENT, True),
    (202, '{"code": 200, "success": true}', Outcome.PERMANENT, False),
]


@pytest.mark.parametrize(("status", "body", "outcome", "ambiguous"), TENJIN_VERDICTS)
def test_only_tenjins_documented_answer_counts_as_delivered(status, body, outcome, ambiguous):
    verdict = tenjin.classify(answer(status, body))
    assert (verdict.outcome, verdict.ambiguous) == (outcome, ambiguous)


def test_a_success_quotes_no_words_unless_tenjin_gave_some():
    assert tenjin.classify(answer(200, '{"code": 200, "success": true}')).mmp_message == ""
    said = tenjin.classify(answer(200, '{"code": 200, "success": true, "message": "event logged"}'))
    assert said.mmp_message == "event logged"


def test_a_web_page_from_a_proxy_is_not_called_tenjins_words():
    page = "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"
    verdict = tenjin.classify(answer(502, page, {"Content-Type": "text/html"}))
    assert verdict.mmp_message == "" and "not the MMP's API" in verdict.explanation


def test_it_does_not_call_a_bare_200_delivered():
    verdict = tenjin.classify(answer(200, "OK"))
    assert (verdict.outcome, verdict.ambiguous) == (Outcome.PERMANENT, True)


@pytest.mark.parametrize(
    ("phrase", "hint"),
    [
        ("invalid device identifier", "advertising id"),
        ("not logged", "SDK key is disabled"),
        ("ignored", "app-version rule"),
    ],
)
def test_it_never_calls_a_202_a_success(phrase, hint):
    verdict = tenjin.classify(answer(202, json.dumps({"code": 202, "message": phrase})))
    assert (verdict.outcome, verdict.mmp_message) == (Outcome.PERMANENT, phrase)
    assert hint in verdict.explanation


def test_it_calls_an_unknown_202_permanent():
    verdict = tenjin.classify(answer(202, '{"success": true}'))
    assert verdict.outcome == Outcome.PERMANENT


@pytest.mark.unconfirmed
def test_it_finds_the_documented_phrase_in_a_body_that_is_not_json():
    verdict = tenjin.classify(answer(404, "Error: no such app"))
    assert verdict.mmp_message == "no such app"
    assert "no app with this bundle id on this platform" in verdict.explanation


def test_it_explains_unauthorized_as_the_wrong_key_for_this_bundle_and_platform():
    verdict = tenjin.classify(answer(401, '{"message": "unauthorized"}'))
    assert verdict.outcome == Outcome.PERMANENT
    assert "each bundle id and platform has its own key" in verdict.explanation


def test_it_calls_a_400_permanent_with_tenjins_message():
    verdict = tenjin.classify(answer(400, '{"code": 400, "message": "missing parameter: os_version"}'))
    assert (verdict.outcome, verdict.mmp_message) == (Outcome.PERMANENT, "missing parameter: os_version")


@pytest.mark.unconfirmed
def test_it_retries_a_429_after_the_seconds_tenjin_asks_for():
    verdict = tenjin.classify(answer(429, "", {"Retry-After": "30"}))
    assert (verdict.outcome, verdict.retry_after) == (Outcome.RETRY, 30.0)


@pytest.mark.unconfirmed
def test_it_retries_a_5xx_without_calling_it_ambiguous():
    verdict = tenjin.classify(answer(502, "Bad gateway"))
    assert (verdict.outcome, verdict.ambiguous, verdict.mmp_message) == (Outcome.RETRY, False, "Bad gateway")


def test_it_names_the_tenjin_setting_on_a_redirect():
    assert (
        "check TENJIN_BASE_URL"
        in tenjin.classify(answer(302, "", {"Location": "https://x.example/"})).explanation
    )


@pytest.mark.parametrize(("kind", "outcome", "ambiguous"), TRANSPORT_EXPECTED)
def test_every_transport_failure_has_a_verdict(kind, outcome, ambiguous):
    verdict = tenjin.classify_error(TransportError(kind, "No answer."))
    assert (verdict.outcome, verdict.ambiguous, verdict.mmp_message) == (outcome, ambiguous, "")
    assert verdict.explanation.startswith("No answer. ")
