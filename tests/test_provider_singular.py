"""Singular: the rules an event must meet, the exact request it becomes, and what its answers mean
(mmp-apis-more.md §1.2). Every Singular answer is HTTP 200: the verdict is in the body."""

from datetime import UTC, datetime

import pytest

from events.models import App, EventToken, Outcome, Platform, Provider
from events.providers import EventInvalid, get_provider
from events.transport import HttpAnswer, TransportError
from tests.conftest import IDFA, SINGULAR_SDID, SINGULAR_SDK_KEY

singular = get_provider(Provider.SINGULAR)
NOW = datetime(2025, 1, 1, 13, 0, tzinfo=UTC)
GAID = "660e1d86-6796-463a-be86-897993136018"


def validate(app: App, fields: dict, *, now: datetime = NOW):
    return singular.validate(app, app.event_tokens.get(token="level_up"), fields, now=now)


def errors_of(app: App, fields: dict) -> dict[str, list[str]]:
    with pytest.raises(EventInvalid) as caught:
        validate(app, fields)
    return caught.value.errors


def event(**fields) -> dict:
    return {"device_ids": {"sdid": SINGULAR_SDID}, "ip_address": "203.0.113.7", **fields}


@pytest.fixture
def ios_v1_app(db) -> App:
    app = App.objects.create(
        name="Singular iOS v1",
        provider=Provider.SINGULAR,
        platform=Platform.IOS,
        app_key=SINGULAR_SDK_KEY,
        bundle_id="com.example.singular",
        api_version="v1",
        default_environment="production",
    )
    EventToken.objects.create(app=app, name="Level up", token="level_up")
    return app


# --- The wire ---------------------------------------------------------------------------------


def test_it_builds_the_documented_v2_request_byte_for_byte(singular_app):
    fields = event(
        os_version="14",
        revenue="-1.99",
        currency="USD",
        attributes={"level": "3"},
        created_at="1735732800",
        custom_user_id="user-42",
    )
    valid = validate(singular_app, fields)
    request = singular.build(singular_app, singular_app.event_tokens.get(), valid.params)
    assert request.method == "POST"
    assert request.url == "https://s2s.singular.net/api/v2/evt"
    # A form body, never JSON; the SDK key in it, not in the URL.
    assert request.headers == {"Content-Type": "application/x-www-form-urlencoded"}
    assert request.body == (
        b"a=demo_singular_sdk_key_5f2c&p=Android&i=com.example.singular&ip=203.0.113.7&ve=14"
        b"&sdid=40009df0-d618-4d81-9da1-cbb3337b8dec&n=level_up&e=%7B%22level%22%3A%223%22%7D"
        b"&amt=-1.99&cur=USD&is_revenue_event=true&umilisec=1735732800000&custom_user_id=user-42"
    )
    assert SINGULAR_SDK_KEY not in request.url
    assert request.secrets == (SINGULAR_SDK_KEY,)
    assert (valid.device_id_type, valid.device_id) == ("sdid", SINGULAR_SDID)


def test_a_v1_ios_app_sends_its_ad_ids_and_att_to_v1(ios_v1_app):
    ids = {"idfa": IDFA, "idfv": IDFA}
    valid = validate(ios_v1_app, event(device_ids=ids, att_status="0", created_at="1735732800"))
    request = singular.build(ios_v1_app, ios_v1_app.event_tokens.get(), valid.params)
    assert request.url == "https://s2s.singular.net/api/v1/evt"
    assert request.body == (
        b"a=demo_singular_sdk_key_5f2c&p=iOS&i=com.example.singular&ip=203.0.113.7"
        b"&idfa=D2CADB5F-410F-4963-AC0C-2A78534BDF1E&idfv=D2CADB5F-410F-4963-AC0C-2A78534BDF1E"
        b"&att_authorization_status=0&n=level_up&umilisec=1735732800000"
    )


def test_no_event_time_pins_now_so_a_retry_keeps_it(singular_app):
    assert validate(singular_app, event()).params["umilisec"] == "1735736400000"


@pytest.mark.unconfirmed
def test_amazon_apps_are_sent_as_android(singular_app):
    singular_app.platform = Platform.AMAZON
    valid = validate(singular_app, event())
    assert b"&p=Android&" in singular.build(singular_app, singular_app.event_tokens.get(), valid.params).body


# --- Validation ----------------------------------------------------------------------------------


def test_v2_requires_the_sdid(singular_app):
    assert "sdid" in errors_of(singular_app, event(device_ids={}))["sdid"][0]


def test_v2_refuses_advertising_ids_and_names_the_switch(singular_app):
    message = errors_of(singular_app, event(device_ids={"sdid": SINGULAR_SDID, "aifa": GAID}))["device_ids"][
        0
    ]
    assert "v1 (advertising ids)" in message


def test_v1_ios_requires_idfa_and_idfv(ios_v1_app):
    errors = errors_of(ios_v1_app, event(device_ids={"idfa": IDFA}, att_status="0"))
    assert "idfv" in errors


def test_v1_android_needs_one_of_its_ids(singular_app):
    singular_app.api_version = "v1"
    assert "device_ids" in errors_of(singular_app, event(device_ids={}))
    assert validate(singular_app, event(device_ids={"andi": "9774d56d682e549c"})).device_id_type == "andi"
    valid = validate(singular_app, event(device_ids={"aifa": GAID}))
    assert any("asid" in w for w in valid.warnings)


def test_ids_have_their_shape(singular_app):
    assert "sdid" in errors_of(singular_app, event(device_ids={"sdid": "not-an-id"}))


def test_the_ip_is_required_and_ipv4(singular_app):
    assert "ip_address" in errors_of(singular_app, {"device_ids": {"sdid": SINGULAR_SDID}})
    assert "IPv4 addresses only" in errors_of(singular_app, event(ip_address="2001:db8::1"))["ip_address"][0]


def test_att_is_always_required_on_ios_and_refused_elsewhere(ios_v1_app, singular_app):
    errors = errors_of(ios_v1_app, event(device_ids={"idfa": IDFA, "idfv": IDFA}))
    assert "pass 0" in errors["att_status"][0]
    assert "not iOS" in errors_of(singular_app, event(att_status="1"))["att_status"][0]


def test_revenue_and_currency_come_together(singular_app):
    assert "currency" in errors_of(singular_app, event(revenue="4.99"))
    assert "revenue" in errors_of(singular_app, event(currency="USD"))


def test_attributes_are_a_flat_object(singular_app):
    assert "attributes" in errors_of(singular_app, event(attributes={"a": ["b"]}))


def test_singular_keeps_no_sandbox(singular_app):
    assert "no sandbox" in errors_of(singular_app, event(environment="sandbox"))["environment"][0]


def test_without_a_bundle_id_every_event_would_be_missing_argument_i(singular_app):
    singular_app.bundle_id = ""
    assert "(i)" in errors_of(singular_app, event())["app"][0]
    errors, _ = singular.validate_app(singular_app)
    assert "bundle_id" in errors


def test_the_api_version_is_v1_or_v2(singular_app):
    singular_app.api_version = "v3"
    errors, _ = singular.validate_app(singular_app)
    assert "api_version" in errors


def test_it_warns_that_a_session_must_come_first(singular_app):
    assert any("session" in w for w in validate(singular_app, event()).warnings)


def test_stored_params_clone_back_to_the_same_event(singular_app):
    fields = event(revenue="2", currency="EUR", attributes={"a": "b"}, os_version="14")
    params = validate(singular_app, fields).params
    assert validate(singular_app, singular.to_fields(params)).params == params


def test_event_names_are_at_most_32_ascii_characters(singular_app):
    assert singular.validate_event_token(singular_app, "a" * 32, "event") == []
    assert "at most 32" in singular.validate_event_token(singular_app, "a" * 33, "event")[0]
    assert "ASCII" in singular.validate_event_token(singular_app, "niveau_réussi", "event")[0]


# --- Answers: HTTP 200 for everything, the verdict in the body -----------------------------------


def answer(status: int, body: str, headers: dict | None = None) -> HttpAnswer:
    return HttpAnswer(status, headers or {}, body.encode(), truncated=False, duration_ms=3.0)


def test_status_ok_is_delivered():
    verdict = singular.classify(answer(200, '{"status":"ok"}'))
    assert verdict.outcome == Outcome.DELIVERED


@pytest.mark.parametrize(
    "reason",
    [
        "missing argument: i",
        "missing argument: a",
        "invalid platform: Blackberry",
        "no device ID supplied",
        "platform: iOS should have an idfv param",
    ],
)
def test_a_200_with_status_error_about_a_parameter_is_a_permanent_failure(reason):
    verdict = singular.classify(answer(200, f'{{"status":"error","reason":"{reason}"}}'))
    assert verdict.outcome == Outcome.PERMANENT
    assert verdict.mmp_message == reason


@pytest.mark.unconfirmed
def test_an_unknown_sdk_key_reads_invalid_sdk_key_and_is_permanent():
    verdict = singular.classify(answer(200, '{"status":"error","reason":"invalid sdk key"}'))
    assert verdict.outcome == Outcome.PERMANENT and "Reporting API key" in verdict.explanation


def test_another_error_in_a_200_is_worth_a_retry():
    verdict = singular.classify(answer(200, '{"status":"error","reason":"temporary failure"}'))
    assert verdict.outcome == Outcome.RETRY


def test_a_200_that_is_not_singulars_json_is_retried_and_flagged():
    verdict = singular.classify(answer(200, "<html>gateway</html>"))
    assert verdict.outcome == Outcome.RETRY and verdict.ambiguous


@pytest.mark.parametrize("status", [404, 429, 500, 502, 503])
def test_any_other_status_is_worth_a_retry(status):
    assert singular.classify(answer(status, "")).outcome == Outcome.RETRY


def test_a_redirect_is_a_configuration_problem():
    verdict = singular.classify(answer(301, "", {"Location": "https://elsewhere.example"}))
    assert verdict.outcome == Outcome.PERMANENT and "SINGULAR_BASE_URL" in verdict.explanation


def test_no_answer_is_classified_by_the_transport_rules():
    verdict = singular.classify_error(TransportError("refused", "Connection refused."))
    assert verdict.outcome == Outcome.RETRY and not verdict.ambiguous
