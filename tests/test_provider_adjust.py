"""Adjust: the rules an event must meet, the request it becomes, and what Adjust's answers mean."""

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

import pytest

from events.models import App, EventToken, Outcome, Platform, Provider
from events.providers import EventInvalid, get_provider
from events.providers.adjust_answers import ADJUST_ANSWERS, adjust_message
from events.providers.adjust_ids import DEVICE_ID_TYPES
from events.providers.answers import TRANSPORT_RULES, AnswerRule, find_rule
from events.transport import HttpAnswer, TransportError
from tests.conftest import ADJUST_APP_TOKEN, ADJUST_SECURITY_TOKEN, IDFA

adjust = get_provider(Provider.ADJUST)
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
GAID = "660e1d86-6796-463a-be86-897993136018"
MD5 = "9e107d9d372bb6826bd81d3542a419d6"
SHA1 = "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"


def validate(app: App, fields: dict, *, now: datetime = NOW):
    return adjust.validate(app, app.event_tokens.get(token="f0ob4r"), fields, now=now)


def errors_of(app: App, fields: dict, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(EventInvalid) as caught:
        validate(app, fields, **kwargs)
    return caught.value.errors


def event(**fields) -> dict:
    return {"device_ids": {"idfa": IDFA}, **fields}


@pytest.fixture
def app_on(db):
    """An Adjust app of the given platform, with the event token f0ob4r."""

    def make(platform: str) -> App:
        app = App.objects.create(
            name=f"Adjust {platform}", provider=Provider.ADJUST, platform=platform, app_key="abc123abc123"
        )
        EventToken.objects.create(app=app, name="Purchase", token="f0ob4r")
        return app

    return make


# The request ------------------------------------------------------------------------------------

DOC_BODY = (
    "s2s=1&event_token=f0ob4r&app_token=4w565xzmb54d&idfa=D2CADB5F-410F-4963-AC0C-2A78534BDF1E"
    "&created_at=2017-01-02T15%3A04%3A05Z%2B0200"
    "&callback_params=%7B%22f0o%22%3A%22bar%22%2C%20%22bar%22%3A%22baz%22%7D"
    "&partner_params=%7B%22f0o%22%3A%22bar%22%2C%20%22bar%22%3A%22baz%22%7D"
    "&currency=EUR&revenue=123.4&environment=sandbox"
)


def test_it_builds_adjusts_documentation_example_byte_for_byte(adjust_app):
    fields = {
        "device_ids": {"idfa": IDFA},
        "created_at": "2017-01-02T15:04:05Z+0200",
        "callback_params": {"f0o": "bar", "bar": "baz"},
        "partner_params": '{"f0o":"bar","bar":"baz"}',
        "currency": "EUR",
        "revenue": "123.4",
        "environment": "sandbox",
    }
    valid = validate(adjust_app, fields, now=datetime(2017, 1, 3, tzinfo=UTC))
    request = adjust.build(adjust_app, adjust_app.event_tokens.get(token="f0ob4r"), valid.params)
    assert request.body.decode() == DOC_BODY
    assert parse_qsl(request.body.decode()) == parse_qsl(DOC_BODY)


def test_it_posts_a_form_to_the_event_endpoint_and_lists_the_app_token_as_a_secret(adjust_app, settings):
    settings.ADJUST_BASE_URL = "https://s2s.adjust.com"
    request = adjust.build(adjust_app, adjust_app.event_tokens.get(token="f0ob4r"), {"idfa": IDFA})
    assert request.method == "POST"
    assert request.url == "https://s2s.adjust.com/event"
    assert request.headers == {"Content-Type": "application/x-www-form-urlencoded"}
    assert request.secrets == (ADJUST_APP_TOKEN,)
    assert request.security_token_id is None


def test_it_strips_a_trailing_slash_from_the_base_url(adjust_app, settings):
    settings.ADJUST_BASE_URL = "http://127.0.0.1:8000/emulator/adjust/"
    request = adjust.build(adjust_app, adjust_app.event_tokens.get(token="f0ob4r"), {"idfa": IDFA})
    assert request.url == "http://127.0.0.1:8000/emulator/adjust/event"


def test_it_sends_the_active_security_token_as_a_bearer_header(adjust_app, adjust_security_token):
    request = adjust.build(adjust_app, adjust_app.event_tokens.get(token="f0ob4r"), {"idfa": IDFA})
    assert request.headers["Authorization"] == f"Bearer {ADJUST_SECURITY_TOKEN}"
    assert request.secrets == (ADJUST_APP_TOKEN, ADJUST_SECURITY_TOKEN)
    assert request.security_token_id == adjust_security_token.pk


def test_it_sends_no_inactive_security_token(adjust_app, adjust_security_token):
    adjust_security_token.active = False
    adjust_security_token.save()
    request = adjust.build(adjust_app, adjust_app.event_tokens.get(token="f0ob4r"), {"idfa": IDFA})
    assert "Authorization" not in request.headers


def test_it_encodes_spaces_as_percent_20_like_adjusts_examples(adjust_app):
    valid = validate(adjust_app, event(user_agent="Mozilla/5.0 (iPhone)"))
    body = adjust.build(adjust_app, adjust_app.event_tokens.get(token="f0ob4r"), valid.params).body.decode()
    assert "user_agent=Mozilla%2F5.0%20%28iPhone%29" in body


def test_it_puts_the_other_parameters_after_the_environment(adjust_app):
    valid = validate(adjust_app, event(ip_address="203.0.113.7", os_name="ios", environment="production"))
    body = adjust.build(adjust_app, adjust_app.event_tokens.get(token="f0ob4r"), valid.params).body.decode()
    names = [name for name, _ in parse_qsl(body)]
    assert names == [
        "s2s",
        "event_token",
        "app_token",
        "idfa",
        "created_at_unix",
        "environment",
        "ip_address",
        "os_name",
    ]


def test_its_params_hold_no_secret_and_none_of_the_fixed_parameters(adjust_app, adjust_security_token):
    valid = validate(adjust_app, event())
    assert set(valid.params) == {"idfa", "created_at_unix", "environment"}
    assert ADJUST_APP_TOKEN not in json.dumps(valid.params)


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


# Device ids -------------------------------------------------------------------------------------

# For each id type: a value in its documented format, and one that breaks it.
ID_SAMPLES = {
    "idfa": (IDFA, IDFA.lower()),
    "gps_adid": (GAID, GAID.upper()),
    "fire_adid": ("df07c7dc-cea7-4a89-b328-810ff5acb15d", "df07c7dccea74a89b328810ff5acb15d"),
    "oaid": ("b3a2f1e0-7c6d-4e5f-8a9b-0c1d2e3f4a5b", "B3A2F1E0-7C6D-4E5F-8A9B-0C1D2E3F4A5B"),
    "win_adid": ("6c8b0e7f2a1d4e3f9b5c7d8e0f1a2b3c", "6c8b0e7f-2a1d-4e3f-9b5c-7d8e0f1a2b3c"),
    "web_uuid": ("1b4e28ba-2fa1-41d2-883f-0016d3cca427", "1B4E28BA-2FA1-41D2-883F-0016D3CCA427"),
    "idfv": ("8A3CB124-5A79-4334-8802-F75FEC099C58", "8a3cb124-5a79-4334-8802-f75fec099c58"),
    "android_id": ("9774d56d682e549c", "9774D56D682E549C"),
    "adid": ("18546f6171f67e29d1cb983322ad1329", "18546F6171F67E29D1CB983322AD1329"),
    "idfa_short": ("D2CADB5F410F4963AC0C2A78534BDF1E", IDFA),
    "idfa_lower_md5": (MD5, SHA1),
    "idfa_lower_sha1": (SHA1, MD5),
    "idfa_upper_md5": (MD5, MD5[:-1]),
    "idfa_upper_sha1": (SHA1, SHA1 + "0"),
    "gps_adid_lower_md5": (MD5, "z" * 32),
    "gps_adid_lower_sha1": (SHA1, "z" * 40),
    "gps_adid_upper_md5": (MD5, GAID),
    "gps_adid_upper_sha1": (SHA1, MD5),
    "oaid_lower_md5": (MD5, SHA1),
    "android_id_lower_md5": (MD5, SHA1),
    "android_id_lower_sha1": (SHA1, MD5),
    "android_id_upper_md5": (MD5, SHA1),
    "android_id_upper_sha1": (SHA1, MD5),
    "imei": ("490154203237518", "49-015420-323751-8"),
    "imei_lower_md5": (MD5, SHA1),
    "meid": ("A0000038AF4B21", "a0000038af4b21"),
    "win_naid": ("3f2504e0-4f89-11d3-9a0c-0305e82c3301", "3F2504E0-4F89-11D3-9A0C-0305E82C3301"),
    "win_hwid": ("0300A3A40300BC3E05003FC2", "0300-A3A4-0300-BC3E"),
    "primary_dedupe_token": ("3e1a5f3c-9b0d-4c7a-8f2e-6d4b1a0c9e7f", "3E1A5F3C-9B0D-4C7A-8F2E-6D4B1A0C9E7F"),
    "google_app_set_id": ("a7f3b1c2-5d4e-4f6a-8b9c-0d1e2f3a4b5c", "x" * 256),
    "external_device_id": ("console-7f3a9c", "x" * 256),
    "persistent_ios_uuid": ("5B6C0E2A-1F3D-4A8B-9C7E-2D4F6A8B0C1E", "5B6C0E2A1F3D4A8B9C7E2D4F6A8B0C1E"),
}


def platform_of(id_type) -> str:
    return next(platform for platform in Platform if platform in id_type.platforms)


def test_the_samples_cover_every_documented_device_id_type():
    assert set(ID_SAMPLES) == {id_type.name for id_type in DEVICE_ID_TYPES}


@pytest.mark.parametrize("id_type", DEVICE_ID_TYPES, ids=lambda t: t.name)
def test_it_accepts_each_device_id_in_its_documented_format(app_on, id_type):
    good, _ = ID_SAMPLES[id_type.name]
    valid = validate(app_on(platform_of(id_type)), {"device_ids": {id_type.name: good}})
    assert (valid.device_id_type, valid.device_id) == (id_type.name, good)
    assert valid.params[id_type.name] == good


@pytest.mark.parametrize("id_type", DEVICE_ID_TYPES, ids=lambda t: t.name)
def test_it_rejects_each_device_id_in_another_format(app_on, id_type):
    _, bad = ID_SAMPLES[id_type.name]
    errors = errors_of(app_on(platform_of(id_type)), {"device_ids": {id_type.name: bad}})
    assert errors == {id_type.name: [f"{id_type.name} must be {id_type.rule}, like {id_type.example}."]}


def test_it_says_how_an_idfa_must_look():
    idfa = next(t for t in DEVICE_ID_TYPES if t.name == "idfa")
    assert idfa.problem(IDFA.lower()) == (
        "idfa must be uppercase with hyphens, like D2CADB5F-410F-4963-AC0C-2A78534BDF1E."
    )


@pytest.mark.unconfirmed
@pytest.mark.parametrize("name", ["idfa_lower_md5", "android_id_upper_sha1"])
def test_it_accepts_a_hashed_id_in_either_case_of_hex(app_on, name):
    id_type = next(t for t in DEVICE_ID_TYPES if t.name == name)
    digest = MD5 if name.endswith("md5") else SHA1
    valid = validate(app_on(platform_of(id_type)), {"device_ids": {name: digest.upper()}})
    assert valid.params[name] == digest.upper()


@pytest.mark.unconfirmed
def test_it_accepts_idfa_short_in_lowercase(adjust_app):
    valid = validate(adjust_app, {"device_ids": {"idfa_short": "d2cadb5f410f4963ac0c2a78534bdf1e"}})
    assert valid.device_id_type == "idfa_short"


def test_it_rejects_an_idfa_on_an_android_app_naming_both_platforms(app_on):
    errors = errors_of(app_on(Platform.ANDROID), {"device_ids": {"idfa": IDFA}})
    message = errors["idfa"][0]
    assert message.startswith(
        "idfa is a device id for iOS, but 'Adjust android' is an app for Android (Google Play); "
        "use gps_adid, fire_adid, oaid,"
    )


def test_it_rejects_a_gps_adid_on_an_ios_app(adjust_app):
    assert (
        "gps_adid is a device id for Android"
        in errors_of(adjust_app, {"device_ids": {"gps_adid": GAID}})["gps_adid"][0]
    )


@pytest.mark.parametrize("platform", [Platform.ANDROID, Platform.AMAZON, Platform.ANDROID_OTHER])
def test_it_takes_the_android_ids_for_every_android_store(app_on, platform):
    ids = {
        "gps_adid": GAID,
        "fire_adid": "df07c7dc-cea7-4a89-b328-810ff5acb15d",
        "android_id": "9774d56d682e549c",
    }
    assert validate(app_on(platform), {"device_ids": ids}).device_id_type == "gps_adid"


def test_it_requires_a_device_id(adjust_app):
    assert errors_of(adjust_app, {"device_ids": {}})["device_ids"] == [
        "Give at least one device id; for iOS apps: idfa, idfv, adid, idfa_short, idfa_lower_md5, "
        "idfa_lower_sha1, idfa_upper_md5, idfa_upper_sha1, primary_dedupe_token, persistent_ios_uuid."
    ]


def test_it_requires_a_device_id_when_all_are_blank(adjust_app):
    assert (
        "Give at least one device id"
        in errors_of(adjust_app, {"device_ids": {"idfa": "  "}})["device_ids"][0]
    )


def test_it_rejects_an_unknown_device_id_type(adjust_app):
    errors = errors_of(adjust_app, {"device_ids": {"idfa": IDFA, "vida": "x"}})
    assert errors["device_ids"][0].startswith(
        "'vida' is not a device id Adjust takes; for iOS apps use idfa,"
    )


def test_it_takes_device_ids_as_json_text(adjust_app):
    assert validate(adjust_app, {"device_ids": json.dumps({"idfa": IDFA})}).device_id == IDFA


def test_it_indexes_the_preferred_id_and_sends_ids_in_preference_order(adjust_app):
    adid = "18546f6171f67e29d1cb983322ad1329"
    valid = validate(adjust_app, {"device_ids": {"adid": adid, "idfv": ID_SAMPLES["idfv"][0], "idfa": IDFA}})
    assert (valid.device_id_type, valid.device_id) == ("idfa", IDFA)
    assert list(valid.params)[:3] == ["idfa", "idfv", "adid"]


def test_it_strips_spaces_around_a_device_id(adjust_app):
    assert validate(adjust_app, {"device_ids": {"idfa": f" {IDFA}\n"}}).device_id == IDFA


def test_it_warns_that_web_uuid_is_probably_not_supported(app_on):
    valid = validate(app_on(Platform.WEB), {"device_ids": {"web_uuid": ID_SAMPLES["web_uuid"][0]}})
    assert any(
        "web_uuid is probably not supported for S2S; expect Device not found" in w for w in valid.warnings
    )


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


# Event time -------------------------------------------------------------------------------------


EIGHT_AM = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
EIGHT_AM_UNIX = str(int(EIGHT_AM.timestamp()))


def test_it_sends_unix_seconds_as_created_at_unix(adjust_app):
    valid = validate(adjust_app, event(created_at=EIGHT_AM_UNIX))
    assert valid.params["created_at_unix"] == EIGHT_AM_UNIX
    assert "created_at" not in valid.params
    assert valid.event_time == EIGHT_AM


def test_it_takes_unix_seconds_as_a_number(adjust_app):
    assert (
        validate(adjust_app, event(created_at=int(EIGHT_AM_UNIX))).params["created_at_unix"] == EIGHT_AM_UNIX
    )


@pytest.mark.unconfirmed
def test_it_converts_unix_milliseconds_to_seconds(adjust_app):
    valid = validate(adjust_app, event(created_at=EIGHT_AM_UNIX + "123"))
    assert valid.params["created_at_unix"] == EIGHT_AM_UNIX
    assert valid.event_time == EIGHT_AM


def test_it_rejects_a_unix_time_of_twelve_digits(adjust_app):
    assert (
        "neither seconds (10) nor milliseconds (13)"
        in errors_of(adjust_app, event(created_at=EIGHT_AM_UNIX + "12"))["created_at"][0]
    )


def test_it_passes_an_iso_time_through_exactly_as_given(adjust_app):
    valid = validate(adjust_app, event(created_at="2026-11-22T07:04:05.288Z-0400"))
    assert valid.params["created_at"] == "2026-11-22T07:04:05.288Z-0400"
    assert "created_at_unix" not in valid.params
    assert valid.event_time == datetime(2026, 11, 22, 11, 4, 5, 288000, tzinfo=UTC)


def test_it_reads_adjusts_z_plus_offset_as_the_offset(adjust_app):
    valid = validate(
        adjust_app, event(created_at="2017-01-02T15:04:05Z+0200"), now=datetime(2017, 1, 3, tzinfo=UTC)
    )
    assert valid.event_time == datetime(2017, 1, 2, 13, 4, 5, tzinfo=UTC)


def test_it_takes_an_iso_time_with_a_plain_offset(adjust_app):
    valid = validate(adjust_app, event(created_at="2026-11-22T11:00:00.000+0000"))
    assert valid.event_time == datetime(2026, 11, 22, 11, 0, tzinfo=UTC)


@pytest.mark.unconfirmed
def test_it_takes_an_iso_time_with_only_a_z(adjust_app):
    assert (
        validate(adjust_app, event(created_at="2026-11-22T11:00:00Z")).params["created_at"]
        == "2026-11-22T11:00:00Z"
    )


def test_it_rejects_an_iso_time_without_a_zone(adjust_app):
    assert (
        "with a time zone" in errors_of(adjust_app, event(created_at="2026-11-22T11:00:00"))["created_at"][0]
    )


@pytest.mark.unconfirmed
def test_it_asks_for_an_offset_without_a_colon(adjust_app):
    errors = errors_of(adjust_app, event(created_at="2026-11-22T11:00:00+02:00"))
    assert errors["created_at"] == [
        "created_at must write its offset without a colon, like +0200 (2017-01-02T15:04:05Z+0200)."
    ]


@pytest.mark.parametrize(
    "value", ["yesterday", "2026-11-22 11:00:00Z", "1795348800.5", "2026-02-30T11:00:00Z"]
)
def test_it_rejects_a_time_it_cannot_read(adjust_app, value):
    assert "created_at" in errors_of(adjust_app, event(created_at=value))


def test_it_accepts_an_event_58_days_old(adjust_app):
    moment = NOW - timedelta(days=58)
    assert validate(adjust_app, event(created_at=str(int(moment.timestamp())))).event_time == moment


def test_it_rejects_an_event_older_than_58_days(adjust_app):
    moment = NOW - timedelta(days=58, seconds=1)
    errors = errors_of(adjust_app, event(created_at=str(int(moment.timestamp()))))
    assert errors["created_at"] == ["created_at is 58 days ago; Adjust rejects events older than 58 days."]


def test_it_accepts_an_event_a_few_minutes_ahead_for_clock_skew(adjust_app):
    moment = NOW + timedelta(minutes=5)
    assert validate(adjust_app, event(created_at=str(int(moment.timestamp())))).event_time == moment


def test_it_rejects_an_event_more_than_five_minutes_in_the_future(adjust_app):
    moment = NOW + timedelta(minutes=6)
    errors = errors_of(adjust_app, event(created_at=str(int(moment.timestamp()))))
    assert errors["created_at"][0].startswith("created_at is 6 minutes in the future")


def test_it_pins_the_event_time_to_now_when_none_is_given(adjust_app):
    valid = validate(adjust_app, event(), now=NOW.replace(microsecond=123))
    assert valid.params["created_at_unix"] == str(int(NOW.timestamp()))
    assert valid.event_time == NOW


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


# Answers ----------------------------------------------------------------------------------------

UNKNOWN_MESSAGE = "Something new"


def answer(status: int, body: str | bytes = b"", headers: dict | None = None) -> HttpAnswer:
    data = body.encode() if isinstance(body, str) else body
    return HttpAnswer(status=status, headers=headers or {}, body=data, truncated=False, duration_ms=12.0)


def sample_status(rules: tuple[AnswerRule, ...], rule: AnswerRule) -> int:
    """A status this row is the first to match for an unknown message."""
    if isinstance(rule.status, int):
        return rule.status
    earlier = rules[: rules.index(rule)]
    return next(
        s for s in rule.status if s >= 100 and not any(r.matches(s, UNKNOWN_MESSAGE) for r in earlier)
    )


def adjust_body(rule: AnswerRule) -> str:
    if rule.prefix == "OK":
        return '{"status": "OK"}'
    return json.dumps({"error": f"Event request failed ({rule.prefix or UNKNOWN_MESSAGE})"})


@pytest.mark.parametrize("rule", ADJUST_ANSWERS, ids=lambda r: f"{r.status}-{r.prefix}")
def test_every_row_of_the_adjust_table_classifies_its_answer(rule):
    status = sample_status(ADJUST_ANSWERS, rule)
    reply = answer(status, adjust_body(rule), {"Location": "https://elsewhere.example/event"})
    assert find_rule(ADJUST_ANSWERS, status, adjust_message(reply)) is rule
    verdict = adjust.classify(reply)
    assert (verdict.outcome, verdict.ambiguous) == (rule.outcome, rule.ambiguous)
    assert verdict.explanation == rule.render(status=status, location="https://elsewhere.example/event")
    assert verdict.mmp_message == (rule.prefix or UNKNOWN_MESSAGE)


def test_the_adjust_table_covers_every_documented_message():
    documented = {
        (202, "Missing authentication token"),
        (202, "Wrong authentication token"),
        (400, "Bad event state"),
        (400, "Invalid app token"),
        (400, "Ignoring event, earlier unique event tracked"),
        (400, "Invalid callback parameters"),
        (400, "Invalid event token"),
        (400, "Invalid revenue"),
        (401, "Failed to authorize request"),
        (401, "Session failed"),
        (403, "App is inactive"),
        (403, "Tracking disabled"),
        (403, "Event token blocklisted"),
        (404, "App token not found"),
        (404, "Device not found"),
        (413, "Request size too large"),
        (451, "Device is opted out"),
        (500, "Internal error, contact support@adjust.com"),
    }
    for status, message in documented:
        assert find_rule(ADJUST_ANSWERS, status, message).prefix is not None, (status, message)


def test_it_calls_status_ok_delivered(adjust_app):
    verdict = adjust.classify(answer(200, '{"status": "OK"}'))
    assert (verdict.outcome, verdict.mmp_message, verdict.ambiguous) == (Outcome.DELIVERED, "OK", False)


def test_it_calls_a_200_with_an_error_permanent(adjust_app):
    verdict = adjust.classify(answer(200, '{"error": "Event request failed (Device not found)"}'))
    assert (verdict.outcome, verdict.mmp_message) == (Outcome.PERMANENT, "Device not found")


def test_it_explains_device_not_found_in_a_marketers_words():
    verdict = adjust.classify(answer(404, '{"error": "Event request failed (Device not found)"}'))
    assert verdict.outcome == Outcome.PERMANENT
    assert verdict.explanation.startswith(
        "Adjust has no install for this device yet; send the install through the SDK first or check "
        "the device id type"
    )


def test_it_drops_the_suffix_after_the_message(adjust_app):
    body = '{"error": "Event request failed (Device not found) (app_token: 4w565xzmb54d, adid: 18546f)"}'
    verdict = adjust.classify(answer(404, body))
    assert verdict.mmp_message == "Device not found"


def test_it_keeps_the_detail_of_a_bad_event_state(adjust_app):
    detail = "Bad event state: Ignoring duplicate event. Last event count: 17 this event count: 17"
    verdict = adjust.classify(answer(400, json.dumps({"error": f"Event request failed ({detail})"})))
    assert verdict.mmp_message == detail
    assert "time order" in verdict.explanation


def test_it_keeps_parentheses_nested_in_the_message():
    body = json.dumps(
        {
            "error": "Event failed (Ignoring event subsequent to an event supposed to be unique (first occurred 2018))"
        }
    )
    assert adjust_message(answer(400, body)) == (
        "Ignoring event subsequent to an event supposed to be unique (first occurred 2018)"
    )


def test_it_reads_a_cut_error_up_to_its_end():
    assert adjust_message(answer(400, '{"error": "Event request failed (Bad event state: (cut"}')) == (
        "Bad event state: (cut"
    )


def test_it_matches_the_ad_revenue_wording_of_a_wrong_token():
    body = '{"error": "Ad revenue request failed (wrong authentication token) (app_token:abc123abc123)"}'
    verdict = adjust.classify(answer(202, body))
    assert verdict.mmp_message == "wrong authentication token"
    assert "does not know this security token" in verdict.explanation


def test_it_quotes_the_start_of_a_body_that_is_not_json():
    verdict = adjust.classify(answer(502, "<html><body>" + "Bad gateway " * 100 + "</body></html>"))
    assert verdict.mmp_message.startswith("<html><body>Bad gateway")
    assert len(verdict.mmp_message) == 300


def test_it_retries_a_5xx_and_marks_it_ambiguous():
    verdict = adjust.classify(answer(503, ""))
    assert (verdict.outcome, verdict.ambiguous) == (Outcome.RETRY, True)


@pytest.mark.unconfirmed
def test_it_retries_a_429_after_the_seconds_adjust_asks_for():
    verdict = adjust.classify(answer(429, "", {"retry-after": "120"}))
    assert (verdict.outcome, verdict.retry_after) == (Outcome.RETRY, 120.0)


def test_it_reads_a_retry_after_given_as_a_date():
    later = datetime.now(UTC) + timedelta(minutes=10)
    verdict = adjust.classify(answer(429, "", {"Retry-After": later.strftime("%a, %d %b %Y %H:%M:%S GMT")}))
    assert 590 <= verdict.retry_after <= 600


def test_it_names_the_redirect_target_and_the_setting_to_check():
    verdict = adjust.classify(answer(301, "", {"Location": "https://app.adjust.com/event"}))
    assert verdict.outcome == Outcome.PERMANENT
    assert verdict.explanation == (
        "Adjust answered with a redirect to https://app.adjust.com/event; s2sadmin does not follow "
        "redirects: check ADJUST_BASE_URL."
    )


@pytest.mark.parametrize(("kind", "rule"), TRANSPORT_RULES.items())
def test_every_transport_failure_has_a_verdict(kind, rule):
    error = TransportError(kind, "Something went wrong.")
    verdict = adjust.classify_error(error)
    assert (verdict.outcome, verdict.ambiguous, verdict.mmp_message) == (rule.outcome, rule.ambiguous, "")
    assert verdict.explanation.startswith("Something went wrong. ")
    assert verdict.ambiguous == error.sent


def test_it_points_a_refused_destination_to_the_adjust_setting():
    verdict = adjust.classify_error(TransportError("not_allowed", "Refused to connect to evil.example."))
    assert verdict.outcome == Outcome.PERMANENT
    assert "Check ADJUST_BASE_URL" in verdict.explanation


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
