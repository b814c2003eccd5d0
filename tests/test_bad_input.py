"""A corpus of bad input, at every door: the provider validators (through create_delivery, as every
sender calls them), send_event, import_config, the test form, the event-token CSV import, the Django
admin, and forged CSRF tokens. Each gets a clear error naming the field, nothing is queued, nothing
is half saved, and nothing answers 500."""

import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from events.engine import create_delivery, send_queue
from events.models import App, Delivery, EventToken, OrderMark, Source
from events.providers import EventInvalid
from tests.conftest import IDFA, TENJIN_ADVERTISING_ID, TENJIN_INSTALLATION_ID

pytestmark = pytest.mark.django_db

MARKUP = '<script>alert("x")</script>'
SQL = "'; DROP TABLE events_delivery; --"


def days_ago(days: float) -> str:
    return str(int((timezone.now() - timedelta(days=days)).timestamp()))


def adjust(**fields):
    return {"device_ids": {"idfa": IDFA}, **fields}


def tenjin(**fields):
    base = {
        "device_ids": {
            "advertising_id": TENJIN_ADVERTISING_ID,
            "analytics_installation_id": TENJIN_INSTALLATION_ID,
        },
        "os_version": "33",
    }
    return {**base, **fields}


# (case, provider, event token, fields, the field the error must name)
VALIDATOR_CASES = [
    ("nested callback params", "adjust", "f0ob4r", adjust(callback_params={"a": {"b": "c"}}), "callback_params"),
    ("a number as a callback value", "adjust", "f0ob4r", adjust(callback_params={"order": 42}), "callback_params"),
    ("a list as a callback value", "adjust", "f0ob4r", adjust(callback_params={"ids": ["1", "2"]}), "callback_params"),
    ("null as a callback value", "adjust", "f0ob4r", adjust(callback_params={"a": None}), "callback_params"),
    ("true as a callback value", "adjust", "f0ob4r", adjust(callback_params={"a": True}), "callback_params"),
    ("nested partner params", "adjust", "f0ob4r", adjust(partner_params={"a": {"b": "c"}}), "partner_params"),
    ("nested params as JSON text", "adjust", "f0ob4r", adjust(partner_params='{"a": {"b": "c"}}'), "partner_params"),
    ("params that are a list", "adjust", "f0ob4r", adjust(callback_params=["a", "b"]), "callback_params"),
    ("params that are not JSON", "adjust", "f0ob4r", adjust(callback_params="{a: b"), "callback_params"),
    ("an IPv6 address", "adjust", "f0ob4r", adjust(ip_address="2001:db8::1"), "ip_address"),
    ("an IPv4-mapped IPv6 address", "adjust", "f0ob4r", adjust(ip_address="::ffff:203.0.113.7"), "ip_address"),
    ("an impossible IPv4 address", "adjust", "f0ob4r", adjust(ip_address="999.1.1.1"), "ip_address"),
    ("markup as an IP address", "adjust", "f0ob4r", adjust(ip_address=MARKUP), "ip_address"),
    ("revenue below 0.001", "adjust", "f0ob4r", adjust(revenue="0.0009", currency="EUR"), "revenue"),
    ("zero revenue", "adjust", "f0ob4r", adjust(revenue="0", currency="EUR"), "revenue"),
    ("negative revenue", "adjust", "f0ob4r", adjust(revenue="-5", currency="EUR"), "revenue"),
    ("revenue above 1e11", "adjust", "f0ob4r", adjust(revenue="100000000000.01", currency="EUR"), "revenue"),
    ("revenue with an exponent", "adjust", "f0ob4r", adjust(revenue="1e12", currency="EUR"), "revenue"),
    ("revenue NaN", "adjust", "f0ob4r", adjust(revenue="NaN", currency="EUR"), "revenue"),
    ("SQL as revenue", "adjust", "f0ob4r", adjust(revenue=SQL, currency="EUR"), "revenue"),
    ("an unknown currency", "adjust", "f0ob4r", adjust(revenue="1", currency="XYZ"), "currency"),
    ("a lowercase currency", "adjust", "f0ob4r", adjust(revenue="1", currency="eur"), "currency"),
    ("a fund code as currency", "adjust", "f0ob4r", adjust(revenue="1", currency="XXX"), "currency"),
    ("SQL as currency", "adjust", "f0ob4r", adjust(revenue="1", currency=SQL), "currency"),
    ("a currency without revenue", "adjust", "f0ob4r", adjust(currency="EUR"), "revenue"),
    ("revenue without a currency", "adjust", "f0ob4r", adjust(revenue="1"), "currency"),
    ("an event 59 days old", "adjust", "f0ob4r", adjust(created_at=days_ago(59)), "created_at"),
    ("an event a day ahead", "adjust", "f0ob4r", adjust(created_at=days_ago(-1)), "created_at"),
    ("a time without a zone", "adjust", "f0ob4r", adjust(created_at="2026-11-20T10:00:00"), "created_at"),
    ("markup as a time", "adjust", "f0ob4r", adjust(created_at=MARKUP), "created_at"),
    ("a lowercase idfa", "adjust", "f0ob4r", {"device_ids": {"idfa": IDFA.lower()}}, "idfa"),
    ("SQL as an idfa", "adjust", "f0ob4r", {"device_ids": {"idfa": SQL}}, "idfa"),
    ("markup as an idfa", "adjust", "f0ob4r", {"device_ids": {"idfa": MARKUP}}, "idfa"),
    ("an unknown device id type", "adjust", "f0ob4r", {"device_ids": {"mac": "00:11:22:33:44:55"}}, "device_ids"),
    ("no device id", "adjust", "f0ob4r", {"device_ids": {}}, "device_ids"),
    ("an Android id on an iOS app", "adjust", "f0ob4r", {"device_ids": {"gps_adid": "660e1d86-6796-463a-be86-897993136018"}}, "gps_adid"),
    ("bytes that are not UTF-8 as an idfa", "adjust", "f0ob4r", {"device_ids": {"idfa": b"\xff\xfe\xfd"}}, "idfa"),
    ("an unknown environment", "adjust", "f0ob4r", adjust(environment="staging"), "environment"),
    ("SQL as the environment", "adjust", "f0ob4r", adjust(environment=SQL), "environment"),
    ("an unknown field", "adjust", "f0ob4r", adjust(colour="red"), "colour"),
    ("an ATT status of 5", "adjust", "f0ob4r", adjust(att_status="5"), "att_status"),
    ("ATT status and tracking both", "adjust", "f0ob4r", adjust(att_status="3", tracking_enabled="1"), "att_status"),
    ("an unknown OS name", "adjust", "f0ob4r", adjust(os_name=MARKUP), "os_name"),
    ("a request over 1 MB", "adjust", "f0ob4r", adjust(callback_params={"blob": "x" * 1_100_000}), "__all__"),
    ("a non-string device ids object", "adjust", "f0ob4r", {"device_ids": ["idfa", IDFA]}, "device_ids"),
    ("no advertising id on Android", "tenjin", "level_up", tenjin(device_ids={"analytics_installation_id": TENJIN_INSTALLATION_ID}), "advertising_id"),
    ("an installation id that is not a UUID", "tenjin", "level_up", tenjin(device_ids={"advertising_id": TENJIN_ADVERTISING_ID, "analytics_installation_id": SQL}), "analytics_installation_id"),
    ("markup as an advertising id", "tenjin", "level_up", tenjin(device_ids={"advertising_id": MARKUP, "analytics_installation_id": TENJIN_INSTALLATION_ID}), "advertising_id"),
    ("a fractional value", "tenjin", "level_up", tenjin(value="1.5"), "value"),
    ("a negative value", "tenjin", "level_up", tenjin(value="-1"), "value"),
    ("SQL as the value", "tenjin", "level_up", tenjin(value=SQL), "value"),
    ("a sandbox event for Tenjin", "tenjin", "level_up", tenjin(environment="sandbox"), "environment"),
    ("an event time for Tenjin", "tenjin", "level_up", tenjin(created_at=days_ago(1)), "created_at"),
    ("revenue on a Tenjin event", "tenjin", "level_up", tenjin(revenue="1"), "revenue"),
    ("callback params for Tenjin", "tenjin", "level_up", tenjin(callback_params={"a": "b"}), "callback_params"),
    ("a lowercase country", "tenjin", "level_up", tenjin(country="us"), "country"),
    ("markup as the country", "tenjin", "level_up", tenjin(country=MARKUP), "country"),
    ("limit ad tracking 'yes'", "tenjin", "level_up", tenjin(limit_ad_tracking="yes"), "limit_ad_tracking"),
    ("no OS version", "tenjin", "level_up", {"device_ids": tenjin()["device_ids"]}, "os_version"),
    ("an impossible IP for Tenjin", "tenjin", "level_up", tenjin(ip_address="1.2.3"), "ip_address"),
    ("a purchase of quantity 0", "tenjin", "purchase", tenjin(product_id="gems", currency="USD", quantity="0", price="1.99"), "quantity"),
    ("a purchase priced 0", "tenjin", "purchase", tenjin(product_id="gems", currency="USD", quantity="1", price="0"), "price"),
    ("a purchase in an unknown currency", "tenjin", "purchase", tenjin(product_id="gems", currency="ABC", quantity="1", price="1"), "currency"),
    ("a purchase with SQL as its price", "tenjin", "purchase", tenjin(product_id="gems", currency="USD", quantity="1", price=SQL), "price"),
    ("a purchase without a product", "tenjin", "purchase", tenjin(currency="USD", quantity="1", price="1"), "product_id"),
    # Values Python reads but no MMP does, or that Python itself cannot read or encode (issue 9).
    ("a superscript digit as the time", "adjust", "f0ob4r", adjust(created_at="²"), "created_at"),
    ("Arabic-Indic digits as the time", "adjust", "f0ob4r", adjust(created_at="١٧٦٤٤٦٠٠٠٠"), "created_at"),
    ("Arabic-Indic digits in an ISO time", "adjust", "f0ob4r", adjust(created_at="٢٠٢٦-11-20T10:00:00Z+0000"), "created_at"),
    ("Arabic-Indic digits as revenue", "adjust", "f0ob4r", adjust(revenue="٤.٩٩", currency="EUR"), "revenue"),
    ("true as revenue", "adjust", "f0ob4r", adjust(revenue=True, currency="EUR"), "revenue"),
    ("revenue of 5,000 digits", "adjust", "f0ob4r", adjust(revenue="9" * 5000, currency="EUR"), "revenue"),
    ("a value of 5,000 digits as text", "tenjin", "level_up", tenjin(value="1" * 5000), "value"),
    ("a value of 5,001 digits as a number", "tenjin", "level_up", tenjin(value=10**5000), "value"),
    ("Arabic-Indic digits as a price", "tenjin", "purchase", tenjin(product_id="gems", currency="USD", quantity="1", price="٤.٩٩"), "price"),
    ("a lone surrogate in the user agent", "adjust", "f0ob4r", adjust(user_agent="Mozilla\udc80"), "user_agent"),
    ("a lone surrogate as a callback value", "adjust", "f0ob4r", adjust(callback_params={"a": "\udc80"}), "callback_params"),
    ("a lone surrogate in a partner key", "adjust", "f0ob4r", adjust(partner_params={"k\ud800": "v"}), "partner_params"),
    ("a lone surrogate as an idfa", "adjust", "f0ob4r", {"device_ids": {"idfa": "\udc80"}}, "idfa"),
    ("a private address as the device's", "adjust", "f0ob4r", adjust(ip_address="10.1.2.3"), "ip_address"),
    ("loopback as the device's address", "adjust", "f0ob4r", adjust(ip_address="127.0.0.1"), "ip_address"),
    ("the cloud metadata address", "adjust", "f0ob4r", adjust(ip_address="169.254.169.254"), "ip_address"),
    ("a link-local IPv6 address with a zone", "tenjin", "level_up", tenjin(ip_address="fe80::1%eth0"), "ip_address"),
    ("a private address for Tenjin", "tenjin", "level_up", tenjin(ip_address="192.168.1.20"), "ip_address"),
    ("IPv6 loopback for Tenjin", "tenjin", "level_up", tenjin(ip_address="::1"), "ip_address"),
    ("a lone surrogate in Tenjin's OS version", "tenjin", "level_up", tenjin(os_version="1\udc80"), "os_version"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "provider", "token", "fields", "field"), VALIDATOR_CASES, ids=[c[0] for c in VALIDATOR_CASES]
)
def test_a_bad_event_is_refused_naming_its_field_with_nothing_saved_or_queued(
    request, redis_conn, case, provider, token, fields, field
):
    app = request.getfixturevalue(f"{provider}_app")
    with pytest.raises(EventInvalid) as refused:
        create_delivery(app, app.event_tokens.get(token=token), fields, source=Source.API)
    assert field in refused.value.errors, refused.value.errors
    assert all(message.strip() for message in refused.value.errors[field])
    assert Delivery.objects.count() == 0
    assert send_queue().count == 0


def test_an_event_older_than_one_adjust_accepted_is_refused_on_created_at(adjust_app, redis_conn):
    token = adjust_app.event_tokens.get(token="f0ob4r")
    OrderMark.objects.create(
        app=adjust_app, event_token=token, device_id=IDFA, newest_event_time=timezone.now()
    )
    with pytest.raises(EventInvalid) as refused:
        create_delivery(adjust_app, token, adjust(created_at=days_ago(1)), source=Source.API)
    assert "already accepted" in refused.value.errors["created_at"][0]
    assert Delivery.objects.count() == 0 and send_queue().count == 0


@pytest.mark.parametrize("text", [MARKUP, SQL, "名前\u202e\u0000"])
def test_markup_and_sql_in_free_text_fields_are_kept_as_text_and_shown_escaped(
    adjust_app, client_for, marketer, text
):
    fields = adjust(
        user_agent=text.replace("\u0000", ""), callback_params={"note": text.replace("\u0000", "")}
    )
    delivery, _ = create_delivery(
        adjust_app, adjust_app.event_tokens.get(token="f0ob4r"), fields, source=Source.API
    )
    page = client_for(marketer).get(f"/deliveries/{delivery.pk}/")
    assert page.status_code == 200
    stored = Delivery.objects.get(pk=delivery.pk).params
    assert stored["user_agent"] == text.replace("\u0000", "")  # kept as text, byte for byte
    assert escape(text.replace("\u0000", "")) in page.content.decode()  # as Django escapes it
    assert_markup_escaped(page.content.decode(), given=[text])


# --- send_event ----------------------------------------------------------------------------

SEND_EVENT_CASES = [
    ("a device without =", ["--device", "idfa"], "--device"),
    ("a bad idfa", ["--device", "idfa=nope"], "idfa"),
    (
        "revenue below the minimum",
        ["--device", f"idfa={IDFA}", "--revenue", "0.0001", "--currency", "EUR"],
        "revenue",
    ),
    ("an unknown currency", ["--device", f"idfa={IDFA}", "--revenue", "1", "--currency", "ZZZ"], "currency"),
    ("an IPv6 address", ["--device", f"idfa={IDFA}", "--ip", "::1"], "ip_address"),
    ("a field twice", ["--device", f"idfa={IDFA}", "--revenue", "1", "--set", "revenue=2"], "revenue"),
    ("markup as a parameter key", ["--device", f"idfa={IDFA}", "--set", f"{MARKUP}=1"], MARKUP),
    ("a superscript digit as the time", ["--device", f"idfa={IDFA}", "--created-at", "²"], "created_at"),
    ("revenue of 5,000 digits", ["--device", f"idfa={IDFA}", "--revenue", "9" * 5000, "--currency", "EUR"], "revenue"),
    ("a lone surrogate in a parameter", ["--device", f"idfa={IDFA}", "--param", "note=\udc80"], "callback_params"),
    ("an idempotency key of 101 characters", ["--device", f"idfa={IDFA}", "--idempotency-key", "k" * 101], "--idempotency-key"),
    ("a key in s2sadmin's own namespace", ["--device", f"idfa={IDFA}", "--idempotency-key", "s2s:bulk-1-2"], "--idempotency-key"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "args", "named"), SEND_EVENT_CASES, ids=[c[0] for c in SEND_EVENT_CASES])
def test_send_event_refuses_bad_input_naming_it(adjust_app, redis_conn, case, args, named):
    with pytest.raises(CommandError) as refused:
        call_command("send_event", adjust_app.name, "f0ob4r", *args)
    assert named in str(refused.value)
    assert Delivery.objects.count() == 0 and send_queue().count == 0


def test_send_event_refuses_an_unknown_app_and_event(adjust_app):
    with pytest.raises(CommandError, match="No app named 'Nope'"):
        call_command("send_event", "Nope", "f0ob4r", "--device", f"idfa={IDFA}")
    with pytest.raises(CommandError, match="No app named '99999"):
        call_command("send_event", "9" * 5000, "f0ob4r", "--device", f"idfa={IDFA}")
    with pytest.raises(CommandError, match="is not an event of this app"):
        call_command("send_event", adjust_app.name, SQL, "--device", f"idfa={IDFA}")


# --- import_config -------------------------------------------------------------------------


def config(**app) -> bytes:
    entry = {"name": "Imported", "provider": "adjust", "platform": "ios", "app_key": "abcdefabcdef", **app}
    return json.dumps({"version": 1, "apps": [entry]}).encode()


IMPORT_CASES = [
    ("not JSON", b"{apps: [", "Not valid JSON"),
    ("not UTF-8", b"\xff\xfe{}", "not UTF-8"),
    ("an unknown provider", config(provider="branch"), "provider must be one of"),
    ("markup as the platform", config(platform=MARKUP), "platform must be one of"),
    ("a name of 101 characters", config(name="n" * 101), "name must be a string of at most 100"),
    ("a blank name", config(name="   "), "name must be a string"),
    ("an unknown key", config(url="https://evil.example"), "unknown keys ['url']"),
    ("a Tenjin app defaulting to sandbox", config(provider="tenjin", platform="android", default_environment="sandbox"), "Tenjin has no sandbox"),
    ("active that is not a boolean", config(active="yes"), "active must be true or false"),
    ("event tokens that are not a list", config(event_tokens={"token": "x"}), "event_tokens: must be a list"),
    # Issue 9: each a clear message, nothing saved; the dashboard's rules whichever door.
    ("a name that is a list", config(name=["Imported"]), "name must be a string of at most 100"),
    ("a security token active 'maybe'", config(security_tokens=[{"label": "p", "value": "v8s5opi0zs45607l", "active": "maybe"}]), "active must be true or false, not 'maybe'"),
    ("JSON nested 100,000 deep", b'{"version": 1, "apps": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
    ("an event token name of 101 characters", config(event_tokens=[{"token": "abc123", "name": "n" * 101}]), "name is longer than 100 characters"),
    ("an Adjust token of kind purchase", config(event_tokens=[{"token": "abc123", "kind": "purchase"}]), "Only Tenjin apps have purchase events"),
    ("an Adjust token with a space", config(event_tokens=[{"token": "abc 123"}]), "An Adjust event token is letters and digits only"),
    ("a Tenjin app on web without a bundle id", config(provider="tenjin", platform="web", default_environment="production"), "Tenjin apps are one of"),
    ("a 10,000-character security token", config(security_tokens=[{"label": "p", "value": "v" * 10_000}]), "8 to 200 characters long; this one has 10000"),
    ("a security token with spaces", config(security_tokens=[{"label": "p", "value": "v8s5 opi0zs45607l"}]), "A security token has no spaces"),
    ("archived that is not a boolean", config(event_tokens=[{"token": "abc123", "archived": "yes"}]), "archived must be true or false"),
    ("a key given twice", b'{"version": 1, "apps": [{"name": "A", "name": "B"}]}', "The key 'name' appears twice in one object"),
    ("a zero-width space in an app name", config(name="Demo Adjust\u200b iOS"), "U+200B"),
    ("a right-to-left override in a token name", config(event_tokens=[{"token": "abc123", "name": "Buy\u202e"}]), "U+202E"),
    ("a zero-width joiner in a security token label", config(security_tokens=[{"label": "p\u200d", "value": "v8s5opi0zs45607l"}]), "U+200D"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "content", "message"), IMPORT_CASES, ids=[c[0] for c in IMPORT_CASES])
def test_import_config_refuses_a_bad_file_changing_nothing(tmp_path, adjust_app, case, content, message):
    path = tmp_path / "config.json"
    path.write_bytes(content)
    before = (App.objects.count(), EventToken.objects.count())
    with pytest.raises(CommandError) as refused:
        call_command("import_config", str(path))
    assert message in str(refused.value)
    assert "nothing" in str(refused.value).lower()
    assert (App.objects.count(), EventToken.objects.count()) == before


# --- The test form and the event-token CSV import (the dashboard's doors) -------------------

FORM_CASES = [
    ("a lowercase idfa", {"id_value_0": IDFA.lower()}, "idfa must be uppercase with hyphens"),
    ("SQL as the idfa", {"id_value_0": SQL}, "idfa must be uppercase with hyphens"),
    ("an IPv6 address", {"ip_address": "2001:db8::1"}, "Adjust accepts IPv4 addresses only"),
    ("revenue below the minimum", {"revenue": "0.0001", "currency": "EUR"}, "revenue must be from 0.001"),
    ("an event 59 days old", {"created_at": days_ago(59)}, "Adjust rejects events older than 58 days"),
    ("markup as the time", {"created_at": MARKUP}, "created_at must be unix seconds"),
    ("a callback value without a key", {"callback_value_0": "lonely"}, "has a value but no key"),
    ("a superscript digit as the time", {"created_at": "²"}, "created_at must be unix seconds"),
    (
        "Arabic-Indic digits as revenue",
        {"revenue": "٤.٩٩", "currency": "EUR"},
        "revenue must be a plain decimal",
    ),
    ("revenue of 5,000 digits", {"revenue": "9" * 5000, "currency": "EUR"}, "revenue has 5000 digits"),
    (
        "a 51st callback row",
        {"callback_key_50": "k51", "callback_value_50": "v"},
        "at most 50 callback rows; 51 were given",
    ),
]


@pytest.mark.parametrize(("case", "data", "message"), FORM_CASES, ids=[c[0] for c in FORM_CASES])
def test_the_test_form_shows_the_error_and_sends_nothing(
    adjust_app, client_for, marketer, redis_conn, case, data, message
):
    # HOOK: the test form's field names (events/forms/send/); extend as the form grows. What a
    # browser posts: both device id rows' types, the first id, the event and the environment.
    token = adjust_app.event_tokens.get(token="f0ob4r")
    post = {
        "app": adjust_app.pk, "event_token": token.pk, "environment": "sandbox",
        "id_type_0": "idfa", "id_value_0": IDFA, "id_type_1": "idfv", "action": "send", **data,
    }  # fmt: skip
    response = client_for(marketer).post("/send/", post)
    page = response.content.decode()
    assert response.status_code == 200
    assert message in page
    assert_markup_escaped(page, given=data.values())
    assert Delivery.objects.count() == 0 and send_queue().count == 0


def assert_markup_escaped(page: str, given) -> None:
    """Where the input carried markup, the page shows it escaped and never as markup."""
    if any(MARKUP in str(value) for value in given):
        assert MARKUP not in page
        assert "&lt;script&gt;" in page


@pytest.mark.parametrize(("case", "data", "message"), FORM_CASES, ids=[c[0] for c in FORM_CASES])
def test_the_preview_shows_the_error_and_builds_no_request(
    adjust_app, client_for, marketer, redis_conn, case, data, message
):
    token = adjust_app.event_tokens.get(token="f0ob4r")
    post = {
        "app": adjust_app.pk, "event_token": token.pk, "environment": "sandbox",
        "id_type_0": "idfa", "id_value_0": IDFA, "id_type_1": "idfv", **data,
    }  # fmt: skip
    response = client_for(marketer).post("/send/preview/", post)
    page = response.content.decode()
    assert response.status_code == 200
    assert message in page
    assert "Nothing can be sent until these are fixed" in page
    assert "s2s=1" not in page  # no request was built
    assert Delivery.objects.count() == 0 and send_queue().count == 0


CSV_CASES = [
    ("not UTF-8", b"name,token\n\xff\xfe,abc\n", "Not valid UTF-8 text"),
    ("a token too long", b"name,token\nLong," + b"x" * 101 + b"\n", "The token is too long"),
    ("over 1 MB", b"name,token\n" + b"a,b\n" * 300_000, "The file is larger than 1 MB"),
    ("one column only", b"name\nPurchase\n", "This is not a CSV of"),
    # Taken as text (shown escaped, stored inert): a formula is neutralised on export, not refused;
    # markup as a token is not refused either (see the report: Adjust tokens have a shape).
    ("a formula in a cell", b'name,token\n=HYPERLINK("http://evil"),abc123\n', None),
    ("markup as a token", b"name,token\nBad," + MARKUP.encode() + b"\n", None),
    (
        "an Adjust token with a space",
        b"name,token\nBad,ab c12\n",
        "An Adjust event token is letters and digits only",
    ),
    (
        "an Adjust token with a line break",
        b'name,token\nBad,"ab\nc12"\n',
        "An Adjust event token is letters and digits only",
    ),
]


@pytest.mark.parametrize(("case", "content", "message"), CSV_CASES, ids=[c[0] for c in CSV_CASES])
def test_the_event_token_csv_import_reports_bad_rows_and_saves_nothing(
    adjust_app, client_for, admin, case, content, message
):
    # HOOK: the event-token CSV import (events/token_csv.py); extend with its new rules.
    from django.core.files.uploadedfile import SimpleUploadedFile

    before = EventToken.objects.count()
    upload = SimpleUploadedFile("tokens.csv", content, content_type="text/csv")
    response = client_for(admin).post(f"/manage/apps/{adjust_app.pk}/event-tokens/import/", {"file": upload})
    page = response.content.decode()
    assert response.status_code == 200
    if message:
        assert message in page
    assert_markup_escaped(page, given=[content.decode("utf-8", "replace")])
    assert EventToken.objects.count() == before


# --- Someone else's door -------------------------------------------------------------------


@pytest.mark.parametrize("role", ["marketer", "viewer"])
def test_a_non_admin_posting_to_the_django_admin_changes_nothing(request, role):
    client = Client()
    client.force_login(request.getfixturevalue(role))
    response = client.post(
        "/admin/events/app/add/",
        {"name": "Sneaky", "provider": "adjust", "platform": "ios", "new_secret": "abcdefabcdef"},
    )
    assert response.status_code in (302, 403)
    assert not App.objects.filter(name="Sneaky").exists()


def test_a_forged_csrf_token_is_refused(adjust_app, marketer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(marketer)
    client.cookies["csrftoken"] = "a" * 32
    token = adjust_app.event_tokens.get(token="f0ob4r")
    response = client.post(
        "/send/",
        {"csrfmiddlewaretoken": "b" * 32, "app": adjust_app.pk, "event_token": token.pk, "id_value_0": IDFA},
    )
    assert response.status_code == 403
    assert Delivery.objects.count() == 0


def test_a_sign_in_with_a_forged_csrf_token_is_refused(viewer):
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = "c" * 32
    response = client.post(
        "/login/", {"csrfmiddlewaretoken": "d" * 32, "username": viewer.username, "password": "x"}
    )
    assert response.status_code == 403
