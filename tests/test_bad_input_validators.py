"""A corpus of bad events at the provider validators (through create_delivery, as every sender calls
them): each gets a clear error naming the field, nothing is saved or queued; free text is kept as
text and shown escaped."""

import pytest
from django.utils import timezone
from django.utils.html import escape

from events.engine import create_delivery, send_queue
from events.models import Delivery, OrderMark, Source
from events.providers import EventInvalid
from tests.bad_input_helpers import MARKUP, SQL, assert_markup_escaped, days_ago
from tests.conftest import IDFA, TENJIN_ADVERTISING_ID, TENJIN_INSTALLATION_ID

pytestmark = pytest.mark.django_db


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
