"""The test-event console: the form follows the provider, the provider's errors land next to their
fields with nothing queued, production needs a confirmation, the preview shows the exact request
with every secret masked, and sending queues a delivery marked as test traffic."""

import html
import re
import time

import pytest
from django.urls import reverse

from events.engine import send_queue
from events.models import Delivery, Source
from tests.conftest import (
    ADJUST_APP_TOKEN,
    ADJUST_SECURITY_TOKEN,
    IDFA,
    TENJIN_ADVERTISING_ID,
    TENJIN_INSTALLATION_ID,
    TENJIN_SDK_KEY,
)

pytestmark = pytest.mark.django_db


def adjust_data(app, token="f0ob4r", **overrides) -> dict:
    data = {
        "app": app.pk,
        "event_token": app.event_tokens.get(token=token).pk,
        "environment": "sandbox",
        "id_type_0": "idfa",
        "id_value_0": IDFA,
        "id_type_1": "idfv",
        "id_value_1": "",
        "created_at": str(int(time.time()) - 60),
        "callback_key_0": "order",
        "callback_value_0": "42",
        "revenue": "4.99",
        "currency": "EUR",
        "action": "send",
    }
    data.update(overrides)
    return data


def tenjin_data(app, token="level_up", **overrides) -> dict:
    data = {
        "app": app.pk,
        "event_token": app.event_tokens.get(token=token).pk,
        "environment": "production",
        "confirm_production": "on",
        "advertising_id": TENJIN_ADVERTISING_ID,
        "analytics_installation_id": TENJIN_INSTALLATION_ID,
        "os_version": "33",
        "value": "50",
        "action": "send",
    }
    data.update(overrides)
    return data


@pytest.fixture
def marketer_client(client_for, marketer):
    return client_for(marketer)


# --- Who may ---------------------------------------------------------------------------------


def test_an_anonymous_visitor_is_sent_to_log_in(client, adjust_app):
    for url in (reverse("send"), f"{reverse('send')}?app={adjust_app.pk}"):
        assert client.get(url).status_code == 302
    response = client.post(reverse("send_preview"), adjust_data(adjust_app))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", ["viewer", "outsider"])
def test_a_viewer_or_outsider_cannot_send_or_preview(request, client_for, role, adjust_app, redis_conn):
    client = client_for(request.getfixturevalue(role))
    assert client.get(reverse("send")).status_code == 403
    assert client.get(f"{reverse('send')}?app={adjust_app.pk}").status_code == 403
    assert client.post(reverse("send"), adjust_data(adjust_app)).status_code == 403
    assert client.post(reverse("send_preview"), adjust_data(adjust_app)).status_code == 403
    assert not Delivery.objects.exists()


def test_the_preview_endpoint_rejects_get(marketer_client):
    assert marketer_client.get(reverse("send_preview")).status_code == 405


def test_an_admin_may_send_too(client_for, admin, adjust_app, redis_conn):
    response = client_for(admin).post(reverse("send"), adjust_data(adjust_app))
    assert response.status_code == 302


def test_an_unknown_app_is_404(marketer_client):
    assert marketer_client.get(f"{reverse('send')}?app=999999").status_code == 404
    assert marketer_client.get(f"{reverse('send')}?app=nope").status_code == 404
    assert marketer_client.post(reverse("send"), {"app": "999999"}).status_code == 404


# --- The form follows the provider -------------------------------------------------------------


def test_without_an_app_the_page_offers_the_apps(marketer_client, adjust_app, tenjin_app):
    page = marketer_client.get(reverse("send")).content.decode()
    assert adjust_app.name in page and tenjin_app.name in page
    assert 'id="send-form"' not in page


def test_an_adjust_app_gets_its_platforms_device_ids_and_adjusts_fields(marketer_client, adjust_app):
    page = marketer_client.get(f"{reverse('send')}?app={adjust_app.pk}").content.decode()
    assert 'name="id_type_0"' in page
    assert '<option value="idfa"' in page and '<option value="idfv"' in page
    assert '<option value="gps_adid"' not in page  # an Android id, not for this iOS app
    assert "uppercase with hyphens" in page and "D2CADB5F-410F-4963-AC0C-2A78534BDF1E" in page
    for name in (
        "callback_key_4",
        "partner_value_4",
        "revenue",
        "currency",
        "created_at",
        "ip_address",
        "user_agent",
    ):
        assert f'name="{name}"' in page
    assert '<option value="EUR"' in page
    assert '<option value="sandbox" selected' in page
    assert 'name="advertising_id"' not in page
    assert ADJUST_APP_TOKEN not in page


def test_the_created_at_field_defaults_to_now(marketer_client, adjust_app):
    from django.utils import timezone

    page = marketer_client.get(f"{reverse('send')}?app={adjust_app.pk}").content.decode()
    assert f'value="{timezone.now():%Y-%m-%dT%H:}' in page


def test_a_tenjin_app_gets_tenjins_fields_and_production_only(marketer_client, tenjin_app):
    page = marketer_client.get(f"{reverse('send')}?app={tenjin_app.pk}").content.decode()
    for name in (
        "advertising_id",
        "developer_device_id",
        "analytics_installation_id",
        "os_version",
        "app_version",
        "value",
        "product_id",
        "price",
        "quantity",
    ):
        assert f'name="{name}"' in page
    assert 'name="callback_key_0"' not in page and 'name="id_type_0"' not in page
    assert '<option value="sandbox"' not in page
    assert 'id="production-warning"' in page and 'id="production-warning" hidden' not in page
    assert 'data-kind="purchase"' in page
    assert TENJIN_SDK_KEY not in page


# --- Sending -------------------------------------------------------------------------------


def test_sending_an_adjust_event_queues_a_test_delivery_and_goes_to_its_page(
    marketer_client, marketer, adjust_app, redis_conn, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = marketer_client.post(reverse("send"), adjust_data(adjust_app))
    delivery = Delivery.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("delivery", args=[delivery.pk])
    assert delivery.source == Source.FORM and delivery.is_test
    assert delivery.created_by == marketer
    assert delivery.params["idfa"] == IDFA
    assert delivery.params["callback_params"] == '{"order":"42"}'
    assert (delivery.params["revenue"], delivery.params["currency"]) == ("4.99", "EUR")
    assert delivery.environment == "sandbox"
    assert send_queue().count == 1


def test_sending_a_tenjin_event_queues_a_test_delivery(
    marketer_client, tenjin_app, redis_conn, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = marketer_client.post(reverse("send"), tenjin_data(tenjin_app))
    delivery = Delivery.objects.get()
    assert response["Location"] == reverse("delivery", args=[delivery.pk])
    assert delivery.source == Source.FORM
    assert delivery.params["advertising_id"] == TENJIN_ADVERTISING_ID
    assert delivery.params["value"] == "50"
    assert send_queue().count == 1


def test_a_tenjin_purchase_sends_the_purchase_fields_and_not_the_value(
    marketer_client, tenjin_app, redis_conn
):
    data = tenjin_data(
        tenjin_app,
        token="purchase",
        product_id="gems_100",
        quantity="1",
        price="4.99",
        currency="USD",
        value="7",
    )
    marketer_client.post(reverse("send"), data)
    params = Delivery.objects.get().params
    assert (params["product_id"], params["price"], params["currency"]) == ("gems_100", "4.99", "USD")
    assert "value" not in params


def test_sending_the_same_form_twice_queues_one_delivery(marketer_client, adjust_app, redis_conn):
    data = adjust_data(adjust_app, idempotency_key="form-abc")
    first = marketer_client.post(reverse("send"), data)
    second = marketer_client.post(reverse("send"), data, follow=True)
    assert Delivery.objects.count() == 1
    assert first["Location"] == second.redirect_chain[0][0]
    assert "already sent" in second.content.decode()


def test_provider_warnings_are_shown_after_sending(marketer_client, adjust_app, redis_conn):
    response = marketer_client.post(
        reverse("send"),
        adjust_data(adjust_app, environment="production", confirm_production="on"),
        follow=True,
    )
    assert "while the app&#x27;s default is sandbox" in response.content.decode()


# --- Errors next to their fields; nothing queued -------------------------------------------------


def assert_nothing_queued():
    assert not Delivery.objects.exists()
    assert send_queue().count == 0


def field_block(page: str, name: str) -> str:
    """The markup from an input's name to the end of its field, where its errors are shown."""
    start = page.index(f'name="{name}"')
    return page[start : page.index("</div>", start)]


def test_a_malformed_device_id_is_reported_next_to_it_and_nothing_is_sent(
    marketer_client, adjust_app, redis_conn
):
    response = marketer_client.post(reverse("send"), adjust_data(adjust_app, id_value_0=IDFA.lower()))
    assert response.status_code == 200
    page = response.content.decode()
    assert "idfa must be uppercase with hyphens" in field_block(page, "id_value_0")
    assert_nothing_queued()


def test_errors_go_to_their_fields(marketer_client, adjust_app, redis_conn):
    data = adjust_data(
        adjust_app,
        ip_address="2001:db8::1",
        revenue="1,5",
        currency="",
        callback_key_1="",
        callback_value_1="orphan",
    )
    page = marketer_client.post(reverse("send"), data).content.decode()
    assert "IPv4 addresses only" in field_block(page, "ip_address")
    assert "has a value but no key" in page
    assert_nothing_queued()
    page = marketer_client.post(
        reverse("send"), adjust_data(adjust_app, ip_address="2001:db8::1", currency="")
    ).content.decode()
    assert "IPv4 addresses only" in field_block(page, "ip_address")
    assert "currency is required with revenue" in field_block(page, "currency")
    assert_nothing_queued()


def test_an_error_without_a_field_of_its_own_is_shown_above_the_form(marketer_client, adjust_app, redis_conn):
    adjust_app.active = False
    adjust_app.save()
    # An inactive app is not offered, but a form opened before still posts it.
    page = marketer_client.post(reverse("send"), adjust_data(adjust_app)).content.decode()
    assert "is inactive in s2sadmin" in page[: page.index('name="event_token"')]
    assert_nothing_queued()


def test_tenjin_errors_go_to_tenjins_fields(marketer_client, tenjin_app, redis_conn):
    data = tenjin_data(tenjin_app, advertising_id="", value="1.5")
    page = marketer_client.post(reverse("send"), data).content.decode()
    assert "advertising_id is required outside iOS" in field_block(page, "advertising_id")
    assert "value must be a whole number" in field_block(page, "value")
    assert_nothing_queued()


def test_production_needs_a_confirmation(marketer_client, adjust_app, redis_conn):
    page = marketer_client.post(
        reverse("send"), adjust_data(adjust_app, environment="production")
    ).content.decode()
    assert "tick the box to confirm" in field_block(page, "confirm_production")
    assert 'id="production-warning" hidden' not in page
    assert_nothing_queued()
    marketer_client.post(
        reverse("send"), adjust_data(adjust_app, environment="production", confirm_production="on")
    )
    assert Delivery.objects.get().environment == "production"


def test_tenjin_always_needs_the_confirmation(marketer_client, tenjin_app, redis_conn):
    data = tenjin_data(tenjin_app)
    del data["confirm_production"]
    page = marketer_client.post(reverse("send"), data).content.decode()
    assert "tick the box to confirm" in page
    assert_nothing_queued()


# --- The preview -----------------------------------------------------------------------------


def test_the_preview_shows_the_exact_request_with_the_token_masked(
    marketer_client, adjust_app, adjust_security_token, redis_conn
):
    data = adjust_data(adjust_app)
    page = marketer_client.post(reverse("send_preview"), data).content.decode()
    assert "POST" in page and "/event" in page
    assert "Bearer ••••" + ADJUST_SECURITY_TOKEN[-4:] in page
    body = (
        f"s2s=1&amp;event_token=f0ob4r&amp;app_token=••••{ADJUST_APP_TOKEN[-4:]}&amp;idfa={IDFA}"
        f"&amp;created_at_unix={data['created_at']}&amp;callback_params=%7B%22order%22%3A%2242%22%7D"
        "&amp;currency=EUR&amp;revenue=4.99&amp;environment=sandbox"
    )
    assert body in page
    assert ADJUST_SECURITY_TOKEN not in page and ADJUST_APP_TOKEN not in page
    assert '"$ADJUST_S2S_TOKEN"' in html.unescape(page) and '"$ADJUST_APP_TOKEN"' in html.unescape(page)
    assert_nothing_queued()


def test_the_preview_button_works_without_javascript(marketer_client, adjust_app, redis_conn):
    page = marketer_client.post(reverse("send"), adjust_data(adjust_app, action="preview")).content.decode()
    assert 'id="send-form"' in page and "app_token=••••" in page
    assert_nothing_queued()


def test_the_preview_lists_what_stops_the_request(marketer_client, adjust_app, redis_conn):
    page = marketer_client.post(
        reverse("send_preview"), adjust_data(adjust_app, id_value_0="nope")
    ).content.decode()
    assert "Nothing can be sent until these are fixed" in page and "idfa must be uppercase" in page


def test_the_tenjin_preview_masks_the_basic_credentials(marketer_client, tenjin_app, redis_conn):
    import base64

    page = marketer_client.post(reverse("send_preview"), tenjin_data(tenjin_app)).content.decode()
    assert "/v0/event" in page
    assert TENJIN_SDK_KEY not in page
    assert base64.b64encode(f"{TENJIN_SDK_KEY}:".encode()).decode() not in page
    assert '-u "$TENJIN_SDK_KEY:"' in html.unescape(page)


def test_the_preview_shows_provider_warnings(marketer_client, adjust_app, redis_conn):
    page = marketer_client.post(
        reverse("send_preview"), adjust_data(adjust_app, environment="production")
    ).content.decode()
    assert "while the app&#x27;s default is sandbox" in page


def test_a_device_id_type_given_twice_is_refused(marketer_client, adjust_app, redis_conn):
    data = adjust_data(adjust_app, id_type_1="idfa", id_value_1="8A3CB124-5A79-4334-8802-F75FEC099C58")
    page = marketer_client.post(reverse("send"), data).content.decode()
    assert "idfa is given twice; keep one." in page
    assert_nothing_queued()


def test_the_first_device_id_is_marked_required(marketer_client, adjust_app):
    page = marketer_client.get(f"{reverse('send')}?app={adjust_app.pk}").content.decode()
    assert re.search(r'<input[^>]*name="id_value_0"[^>]*required', page)
    assert not re.search(r'<input[^>]*name="id_value_1"[^>]*required', page)


def test_a_missing_device_id_type_is_named_next_to_its_row(marketer_client, adjust_app, redis_conn):
    data = adjust_data(adjust_app)
    del data["id_type_1"]
    response = marketer_client.post(reverse("send"), data)
    assert response.status_code == 200
    assert "Device id type: This field is required." in response.content.decode()
    assert_nothing_queued()
