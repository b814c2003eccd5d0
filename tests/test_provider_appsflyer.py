"""AppsFlyer: the rules an event must meet, the exact request it becomes, and what its answers mean
(mmp-apis-more.md §1.1)."""

import json
from datetime import UTC, datetime

import pytest

from events.models import App, EventToken, Outcome, Platform, Provider
from events.providers import EventInvalid, get_provider
from events.transport import HttpAnswer, TransportError
from tests.conftest import APPSFLYER_ID, APPSFLYER_S2S_TOKEN, IDFA

appsflyer = get_provider(Provider.APPSFLYER)
NOW = datetime(2025, 1, 1, 13, 0, tzinfo=UTC)


def validate(app: App, fields: dict, *, now: datetime = NOW, token: str = "af_purchase"):
    return appsflyer.validate(app, app.event_tokens.get(token=token), fields, now=now)


def errors_of(app: App, fields: dict, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(EventInvalid) as caught:
        validate(app, fields, **kwargs)
    return caught.value.errors


def event(**fields) -> dict:
    return {"device_ids": {"appsflyer_id": APPSFLYER_ID}, "os_version": "17.5", **fields}


@pytest.fixture
def android_app(db) -> App:
    app = App.objects.create(
        name="AppsFlyer Android",
        provider=Provider.APPSFLYER,
        platform=Platform.ANDROID,
        app_key=APPSFLYER_S2S_TOKEN,
        bundle_id="com.example.game",
        default_environment="production",
    )
    EventToken.objects.create(app=app, name="Purchase", token="af_purchase")
    return app


# --- The wire ---------------------------------------------------------------------------------


def test_it_builds_the_documented_request_byte_for_byte(appsflyer_app):
    fields = event(
        device_ids={"appsflyer_id": APPSFLYER_ID, "idfa": IDFA.lower()},
        event_value={"af_content_id": "gems_100"},
        revenue="4.99",
        currency="USD",
        created_at="2025-01-01T14:00:00.123+02:00",
        ip_address="203.0.113.7",
        att_status="3",
        customer_user_id="user-42",
    )
    valid = validate(appsflyer_app, fields)
    request = appsflyer.build(appsflyer_app, appsflyer_app.event_tokens.get(), valid.params)
    assert request.method == "POST"
    assert request.url == "https://api3.appsflyer.com/inappevent/id123456789"
    # The header is literally `authentication`, with no "Bearer".
    assert request.headers == {"Content-Type": "application/json", "authentication": APPSFLYER_S2S_TOKEN}
    assert request.body == (
        b'{"appsflyer_id":"1415211453000-6513894","eventName":"af_purchase",'
        b'"eventValue":"{\\"af_revenue\\":\\"4.99\\",\\"af_currency\\":\\"USD\\",\\"af_content_id\\":\\"gems_100\\"}",'
        b'"eventTime":"2025-01-01 12:00:00.123","eventCurrency":"USD","ip":"203.0.113.7","os":"17.5",'
        b'"att":"3","idfa":"D2CADB5F-410F-4963-AC0C-2A78534BDF1E","customer_user_id":"user-42",'
        b'"af_events_api":"true"}'
    )
    assert request.secrets == (APPSFLYER_S2S_TOKEN,)
    assert valid.device_id_type == "appsflyer_id" and valid.device_id == APPSFLYER_ID


def test_event_value_is_a_json_string_never_an_object(appsflyer_app):
    valid = validate(appsflyer_app, event(event_value='{"level": 3, "vip": true}'))
    body = json.loads(appsflyer.build(appsflyer_app, appsflyer_app.event_tokens.get(), valid.params).body)
    assert body["eventValue"] == '{"level":3,"vip":true}'


def test_an_event_without_a_value_sends_an_empty_string(appsflyer_app):
    valid = validate(appsflyer_app, event())
    body = json.loads(appsflyer.build(appsflyer_app, appsflyer_app.event_tokens.get(), valid.params).body)
    assert body["eventValue"] == ""


def test_the_app_id_is_percent_encoded_in_the_path(android_app):
    android_app.bundle_id = "com.example.game"
    valid = validate(android_app, event())
    request = appsflyer.build(android_app, android_app.event_tokens.get(), valid.params)
    assert request.url.endswith("/inappevent/com.example.game")


@pytest.mark.unconfirmed
def test_it_sends_af_events_api_which_api3_may_no_longer_need(appsflyer_app):
    valid = validate(appsflyer_app, event())
    body = json.loads(appsflyer.build(appsflyer_app, appsflyer_app.event_tokens.get(), valid.params).body)
    assert body["af_events_api"] == "true"


# --- The event time ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ("1735732800", "2025-01-01 12:00:00.000"),
        ("1735732800250", "2025-01-01 12:00:00.250"),
        ("2025-01-01T12:00:00Z", "2025-01-01 12:00:00.000"),
        ("2025-01-01T07:00:00.5-05:00", "2025-01-01 12:00:00.500"),
    ],
)
def test_the_event_time_goes_in_appsflyers_own_layout_in_utc(appsflyer_app, given, sent):
    assert validate(appsflyer_app, event(created_at=given)).params["eventTime"] == sent


def test_no_event_time_pins_now_so_a_retry_keeps_it(appsflyer_app):
    assert validate(appsflyer_app, event()).params["eventTime"] == "2025-01-01 13:00:00.000"


def test_it_warns_when_appsflyer_would_restamp_a_late_event(appsflyer_app):
    in_time = validate(
        appsflyer_app, event(created_at="1735732800"), now=datetime(2025, 1, 2, 1, 59, tzinfo=UTC)
    )
    assert not any("arrival time" in w for w in in_time.warnings)
    late = validate(appsflyer_app, event(created_at="1735732800"), now=datetime(2025, 1, 2, 2, 1, tzinfo=UTC))
    assert any("2025-01-02 02:01:00.000, not 2025-01-01 12:00:00.000" in w for w in late.warnings)


@pytest.mark.parametrize(
    "given", ["2025-01-01 12:00:00", "01/01/2025", "2025-01-01T12:00:00", "12345678901234"]
)
def test_it_refuses_times_without_a_zone_or_in_other_layouts(appsflyer_app, given):
    assert "created_at" in errors_of(appsflyer_app, event(created_at=given))


def test_it_refuses_an_event_from_the_future(appsflyer_app):
    assert "future" in errors_of(appsflyer_app, event(created_at="2025-01-01T14:00:00Z"))["created_at"][0]


# --- The app id: the silent 200 -----------------------------------------------------------------


def test_a_bare_ios_app_store_id_is_refused_with_the_fix(appsflyer_app):
    appsflyer_app.bundle_id = "123456789"
    message = errors_of(appsflyer_app, event())["app"][0]
    assert "write id123456789" in message and "200 OK" in message
    errors, _ = appsflyer.validate_app(appsflyer_app)
    assert "write id123456789" in errors["bundle_id"][0]


@pytest.mark.parametrize("app_id", ["", "com.example.game", "ID123", "id12a"])
def test_other_ios_app_ids_are_refused(appsflyer_app, app_id):
    appsflyer_app.bundle_id = app_id
    assert "app" in errors_of(appsflyer_app, event())


def test_an_android_app_id_is_a_package_name(android_app):
    android_app.bundle_id = "id123456789"
    assert "package name" in errors_of(android_app, event())["app"][0]


def test_web_apps_are_not_appsflyer_mobile_apps(appsflyer_app):
    appsflyer_app.platform = Platform.WEB
    errors, _ = appsflyer.validate_app(appsflyer_app)
    assert "platform" in errors


def test_appsflyer_apps_keep_no_sandbox(appsflyer_app):
    assert "no sandbox" in errors_of(appsflyer_app, event(environment="sandbox"))["environment"][0]
    appsflyer_app.default_environment = "sandbox"
    errors, _ = appsflyer.validate_app(appsflyer_app)
    assert "default_environment" in errors


# --- Device ids ---------------------------------------------------------------------------------


def test_appsflyer_id_is_required(appsflyer_app):
    assert "mandatory" in errors_of(appsflyer_app, event(device_ids={"idfa": IDFA}))["appsflyer_id"][0]


@pytest.mark.parametrize(
    "value", ["1415211453000", "141521145300-6513894", "abc-123", "1415211453000_6513894"]
)
def test_appsflyer_id_has_its_shape(appsflyer_app, value):
    assert "appsflyer_id" in errors_of(appsflyer_app, event(device_ids={"appsflyer_id": value}))


def test_the_long_android_appsflyer_id_passes(android_app):
    valid = validate(android_app, event(device_ids={"appsflyer_id": "1415211453000-1234567890123456789"}))
    assert valid.device_id == "1415211453000-1234567890123456789"


def test_ios_ids_are_sent_uppercase(appsflyer_app):
    ids = {"appsflyer_id": APPSFLYER_ID, "idfa": IDFA.lower(), "idfv": IDFA.lower()}
    params = validate(appsflyer_app, event(device_ids=ids)).params
    assert params["idfa"] == IDFA and params["idfv"] == IDFA


def test_android_ids_belong_to_android_apps(appsflyer_app, android_app):
    gaid = "660e1d86-6796-463a-be86-897993136018"
    ids = {"appsflyer_id": APPSFLYER_ID, "advertising_id": gaid}
    assert "device_ids" in errors_of(appsflyer_app, event(device_ids=ids))
    assert validate(android_app, event(device_ids=ids)).params["advertising_id"] == gaid


def test_a_device_id_that_is_not_a_uuid_is_refused(appsflyer_app):
    ids = {"appsflyer_id": APPSFLYER_ID, "idfa": "not-an-idfa"}
    assert "idfa" in errors_of(appsflyer_app, event(device_ids=ids))


# --- Other fields -------------------------------------------------------------------------------


def test_only_ipv4_is_accepted(appsflyer_app):
    assert "IPv4 addresses only" in errors_of(appsflyer_app, event(ip_address="2001:db8::1"))["ip_address"][0]
    assert "ip_address" in errors_of(appsflyer_app, event(ip_address="999.1.1.1"))


def test_event_value_is_a_flat_object(appsflyer_app):
    assert "event_value" in errors_of(appsflyer_app, event(event_value={"nested": {"a": "b"}}))
    assert "event_value" in errors_of(appsflyer_app, event(event_value="[1, 2]"))
    assert "event_value" in errors_of(appsflyer_app, event(event_value="{not json"))


def test_revenue_and_currency_come_together(appsflyer_app):
    assert "currency" in errors_of(appsflyer_app, event(revenue="4.99"))
    assert "revenue" in errors_of(appsflyer_app, event(currency="USD"))
    assert "currency" in errors_of(appsflyer_app, event(revenue="4.99", currency="usd"))
    assert "revenue" in errors_of(appsflyer_app, event(revenue="4,99", currency="USD"))


def test_negative_revenue_is_a_refund_appsflyer_takes(appsflyer_app):
    params = validate(appsflyer_app, event(revenue="-4.99", currency="EUR")).params
    assert json.loads(params["eventValue"]) == {"af_revenue": "-4.99", "af_currency": "EUR"}


def test_revenue_is_given_once(appsflyer_app):
    errors = errors_of(appsflyer_app, event(revenue="1", currency="USD", event_value={"af_revenue": "2"}))
    assert "af_revenue is set by the revenue" in errors["event_value"][0]


def test_a_number_as_af_revenue_is_only_a_warning(appsflyer_app):
    valid = validate(appsflyer_app, event(event_value={"af_revenue": 4.99}))
    assert any("af_revenue is not text" in w for w in valid.warnings)


def test_att_is_for_ios_only(android_app):
    assert "not iOS" in errors_of(android_app, event(att_status="3"))["att_status"][0]
    assert "att_status" in errors_of(android_app, event(att_status="7"))


def test_fields_of_other_mmps_are_refused(appsflyer_app):
    errors = errors_of(appsflyer_app, event(callback_params={"a": "b"}))
    assert errors["callback_params"] == ["Unknown field 'callback_params' for AppsFlyer."]


def test_it_warns_without_os_on_ios_only(appsflyer_app, android_app):
    valid = validate(appsflyer_app, {"device_ids": {"appsflyer_id": APPSFLYER_ID}})
    assert any("iOS 14.5" in w for w in valid.warnings)
    android = validate(android_app, {"device_ids": {"appsflyer_id": APPSFLYER_ID}})
    assert not any("iOS 14.5" in w for w in android.warnings)


def test_a_body_over_one_kilobyte_is_refused_before_sending(appsflyer_app):
    big = {f"k{n}": "x" * 40 for n in range(25)}
    assert "at most 1,024" in errors_of(appsflyer_app, event(event_value=big))["__all__"][0]


def test_stored_params_clone_back_to_the_same_event(appsflyer_app):
    fields = event(event_value={"a": "b"}, revenue="4.99", currency="USD", ip_address="203.0.113.7")
    params = validate(appsflyer_app, fields).params
    again = validate(appsflyer_app, appsflyer.to_fields(params)).params
    assert again == params


# --- Event names --------------------------------------------------------------------------------


@pytest.mark.unconfirmed
def test_event_names_have_at_most_45_characters(appsflyer_app):
    assert appsflyer.validate_event_token(appsflyer_app, "a" * 45, "event") == []
    assert "at most 45" in appsflyer.validate_event_token(appsflyer_app, "a" * 46, "event")[0]


def test_a_name_differing_only_in_case_would_be_a_new_event(appsflyer_app):
    problems = appsflyer.validate_event_token(appsflyer_app, "AF_Purchase", "event")
    assert "case matters" in problems[0] and "'af_purchase'" in problems[0]


def test_names_have_no_surrounding_spaces_and_no_purchase_kind(appsflyer_app):
    assert appsflyer.validate_event_token(appsflyer_app, " level", "event")
    assert (
        "Only Tenjin apps have purchase events"
        in appsflyer.validate_event_token(appsflyer_app, "buy", "purchase")[0]
    )


# --- Answers ------------------------------------------------------------------------------------


def answer(status: int, body: str = "", headers: dict | None = None) -> HttpAnswer:
    return HttpAnswer(status, headers or {}, body.encode(), truncated=False, duration_ms=3.0)


def test_200_ok_is_delivered_and_says_it_is_minimal_validation():
    verdict = appsflyer.classify(answer(200, "OK"))
    assert verdict.outcome == Outcome.DELIVERED and verdict.mmp_message == "OK"
    assert "minimal validation" in verdict.explanation


@pytest.mark.unconfirmed
def test_ok_as_a_json_string_reads_the_same():
    assert appsflyer.classify(answer(200, '"OK"')).outcome == Outcome.DELIVERED


def test_a_200_without_ok_is_not_called_delivered():
    verdict = appsflyer.classify(answer(200, "<html>proxy</html>"))
    assert verdict.outcome == Outcome.PERMANENT and verdict.ambiguous


@pytest.mark.parametrize(
    ("status", "body", "words"),
    [
        (400, "Failed to Authenticate", "S2S token"),
        (400, "appsflyer_id is a mandatory field", "getAppsFlyerUID"),
        (400, "Payload is missing or failed to parse", "could not read the body"),
        (400, "Bad request", "validation rule"),
        (400, "app_id does not match", "app id"),
        (401, "Unauthorized", "another AppsFlyer app"),
        (403, "Forbidden", "plan"),
    ],
)
def test_documented_refusals_are_permanent_and_explained(status, body, words):
    verdict = appsflyer.classify(answer(status, body))
    assert verdict.outcome == Outcome.PERMANENT
    assert verdict.mmp_message == body
    assert words in verdict.explanation


def test_403_says_the_plan_does_not_take_s2s():
    assert "Enterprise" in appsflyer.classify(answer(403, "Forbidden")).explanation


def test_500_is_worth_another_try_since_the_value_is_always_a_string():
    verdict = appsflyer.classify(answer(500, "Internal Server Error"))
    assert verdict.outcome == Outcome.RETRY and not verdict.ambiguous


@pytest.mark.unconfirmed
def test_429_is_throttling_with_the_wait_it_asks_for():
    verdict = appsflyer.classify(answer(429, "Too Many Requests", {"Retry-After": "7"}))
    assert verdict.outcome == Outcome.RETRY and verdict.retry_after == 7.0


def test_no_answer_is_classified_by_the_transport_rules():
    verdict = appsflyer.classify_error(TransportError("read_timeout", "AppsFlyer did not answer in time."))
    assert verdict.outcome == Outcome.RETRY and verdict.ambiguous
    refused = appsflyer.classify_error(TransportError("not_allowed", "Not an MMP host."))
    assert refused.outcome == Outcome.PERMANENT and "APPSFLYER_BASE_URL" in refused.explanation


def test_it_declares_its_published_rate_limit():
    assert appsflyer.published_rate_per_second == 1000.0
