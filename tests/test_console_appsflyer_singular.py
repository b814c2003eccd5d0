"""The test-event console for AppsFlyer and Singular: the form is the one the provider describes
(no form of their own), errors land next to their inputs, the preview masks the S2S token and the
SDK key, and copy-as-curl reads them from environment variables."""

import html

import pytest
from django.urls import reverse

from events.models import Delivery
from tests.conftest import APPSFLYER_ID, APPSFLYER_S2S_TOKEN, SINGULAR_SDID, SINGULAR_SDK_KEY

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketer_client(client_for, marketer):
    return client_for(marketer)


def appsflyer_data(app, **overrides) -> dict:
    data = {
        "app": app.pk,
        "event_token": app.event_tokens.get().pk,
        "environment": "production",
        "confirm_production": "on",
        "appsflyer_id": APPSFLYER_ID,
        "event_value": '{"af_content_id": "gems_100"}',
        "revenue": "4.99",
        "currency": "USD",
        "os_version": "17.5",
        "action": "send",
    }
    return {**data, **overrides}


def singular_data(app, **overrides) -> dict:
    data = {
        "app": app.pk,
        "event_token": app.event_tokens.get().pk,
        "environment": "production",
        "confirm_production": "on",
        "sdid": SINGULAR_SDID,
        "ip_address": "203.0.113.7",
        "action": "send",
    }
    return {**data, **overrides}


def test_an_appsflyer_app_gets_the_fields_its_provider_describes(marketer_client, appsflyer_app):
    page = marketer_client.get(f"{reverse('send')}?app={appsflyer_app.pk}").content.decode()
    for name in ("appsflyer_id", "idfa", "idfv", "event_value", "revenue", "created_at", "att_status"):
        assert f'name="{name}"' in page
    assert 'name="callback_key_0"' not in page and 'name="advertising_id"' not in page
    assert '<option value="sandbox"' not in page and "AppsFlyer keeps no sandbox" in page
    assert APPSFLYER_S2S_TOKEN not in page


def test_a_singular_app_gets_its_v2_fields(marketer_client, singular_app):
    page = marketer_client.get(f"{reverse('send')}?app={singular_app.pk}").content.decode()
    for name in ("sdid", "ip_address", "attributes", "custom_user_id"):
        assert f'name="{name}"' in page
    assert 'name="aifa"' not in page and 'name="att_status"' not in page


def test_sending_an_appsflyer_event_queues_it(
    marketer_client, appsflyer_app, redis_conn, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = marketer_client.post(reverse("send"), appsflyer_data(appsflyer_app))
    delivery = Delivery.objects.get()
    assert response["Location"] == reverse("delivery", args=[delivery.pk])
    assert delivery.params["appsflyer_id"] == APPSFLYER_ID
    assert (
        delivery.params["eventValue"]
        == '{"af_revenue":"4.99","af_currency":"USD","af_content_id":"gems_100"}'
    )


def test_appsflyer_errors_go_next_to_their_inputs(marketer_client, appsflyer_app, redis_conn):
    response = marketer_client.post(reverse("send"), appsflyer_data(appsflyer_app, appsflyer_id="12345"))
    form = response.context["form"]
    assert "13 digits" in form.errors["appsflyer_id"][0]
    assert not Delivery.objects.exists()


def test_a_bare_ios_app_id_is_refused_with_the_fix_above_the_form(marketer_client, appsflyer_app, redis_conn):
    appsflyer_app.bundle_id = "123456789"
    appsflyer_app.save()
    page = marketer_client.post(reverse("send"), appsflyer_data(appsflyer_app)).content.decode()
    assert "write id123456789" in page
    assert not Delivery.objects.exists()


def test_the_appsflyer_preview_masks_the_token_and_curl_reads_it_from_the_environment(
    marketer_client, appsflyer_app, redis_conn
):
    page = marketer_client.post(reverse("send_preview"), appsflyer_data(appsflyer_app)).content.decode()
    assert "/inappevent/id123456789" in page
    assert APPSFLYER_S2S_TOKEN not in page
    assert "-H 'authentication: '\"$APPSFLYER_S2S_TOKEN\"" in html.unescape(page)


def test_the_singular_preview_masks_the_sdk_key(marketer_client, singular_app, redis_conn):
    page = marketer_client.post(reverse("send_preview"), singular_data(singular_app)).content.decode()
    assert "/api/v2/evt" in page and SINGULAR_SDK_KEY not in page
    assert "$SINGULAR_SDK_KEY" in html.unescape(page)


def test_singular_errors_go_next_to_their_inputs(marketer_client, singular_app, redis_conn):
    response = marketer_client.post(reverse("send"), singular_data(singular_app, ip_address=""))
    assert "required" in response.context["form"].errors["ip_address"][0]
