"""The Adjust /event emulator (§5.4 of mmp-apis.md): how it reads a request, and the app token and app status."""

from urllib.parse import urlencode

import pytest
import requests
from django.test import override_settings
from django.utils import timezone

from events.emulator import adjust, registry
from events.emulator.wire import Incoming
from tests.adjust_emulator_helpers import FORM, events, get, post_form
from tests.emulator_fixtures import (
    ADJUST_APP,
    ADJUST_URL,
    EVENT,
    GPS_ADID,
    IDFA,
    adjust_params,
    emu_adjust,  # noqa: F401 - a fixture
    error_of,
)

pytestmark = pytest.mark.usefixtures("emu_adjust")


# --- Transport and parameters -------------------------------------------------------------


def test_it_accepts_a_get_with_query_parameters(client):
    response = get(client)
    assert response.status_code == 200
    assert response.json() == {"status": "OK"}
    assert response["Content-Type"] == "application/json; charset=utf-8"
    [event] = events()
    assert (event.app_key, event.event_token, event.kind) == (ADJUST_APP, EVENT, "event")
    assert event.device_ids == {"idfa": IDFA}
    assert event.request_method == "GET"


def test_it_accepts_a_post_with_query_parameters_and_no_body(client):
    response = client.generic("POST", ADJUST_URL + "?" + urlencode(adjust_params()))
    assert response.status_code == 200
    assert events().get().request_method == "POST"


def test_it_accepts_a_post_with_a_form_body(client):
    response = post_form(client, adjust_params())
    assert response.status_code == 200
    assert events().get().request_body == urlencode(adjust_params())


@pytest.mark.unconfirmed
def test_a_body_parameter_wins_over_the_same_query_parameter(client):
    url = ADJUST_URL + "?" + urlencode({"event_token": "nosuch"})
    response = post_form(client, adjust_params(), url=url)
    assert response.status_code == 200
    assert events().get().event_token == EVENT


@pytest.mark.unconfirmed
def test_it_ignores_a_body_that_is_not_form_encoded(client):
    response = client.post(ADJUST_URL, adjust_params(), content_type="application/json")
    assert response.status_code == 400
    assert error_of(response) == "Event request failed (Invalid app token)"


@pytest.mark.unconfirmed
def test_the_first_of_repeated_parameters_wins(client):
    query = urlencode(adjust_params()) + "&event_token=nosuch"
    assert client.get(ADJUST_URL + "?" + query).status_code == 200


def test_parameter_names_are_case_sensitive(client):
    response = get(client, app_token=None, App_Token=ADJUST_APP)
    assert response.status_code == 400
    assert error_of(response) == "Event request failed (Invalid app token)"


@pytest.mark.unconfirmed
def test_it_answers_405_with_an_empty_body_to_other_methods(client):
    response = client.put(ADJUST_URL, urlencode(adjust_params()), content_type=FORM)
    assert response.status_code == 405
    assert response.content == b""


def test_it_answers_413_when_the_body_is_over_1_mb(client):
    response = post_form(client, adjust_params(padding="x" * 1_048_576))
    assert response.status_code == 413
    assert error_of(response) == "Event request failed (Request size too large)"
    assert not events().exists()


def test_the_query_string_counts_towards_the_1_mb_limit(client):
    url = ADJUST_URL + "?padding=" + "x" * 600_000
    response = post_form(client, adjust_params(padding2="y" * 500_000), url=url)
    assert response.status_code == 413


def test_a_nul_byte_in_a_parameter_gets_an_answer_not_a_crash(client):
    response = client.get(
        ADJUST_URL + "?" + urlencode(adjust_params(event_token="f0ob4r\x00", currency="\x00"))
    )
    assert error_of(response) == "Event request failed (Invalid event token)"


def test_it_answers_404_when_the_emulator_is_disabled(client):
    with override_settings(EMULATOR_ENABLED=False):
        assert get(client).status_code == 404
    assert not events().exists()


def test_the_checks_answer_without_http():
    incoming = Incoming.build("GET", urlencode(adjust_params()))
    status, body = adjust.check_event(incoming, now=timezone.now(), commit=False)
    assert (status, body) == (200, {"status": "OK"})
    assert not events().exists()


# --- App token and app status -------------------------------------------------------------


@pytest.mark.unconfirmed
def test_it_accepts_an_event_without_s2s(client):
    assert get(client, s2s=None).status_code == 200


def test_it_answers_400_when_the_app_token_is_missing(client):
    response = get(client, app_token=None, s2s=None)
    assert response.status_code == 400
    assert error_of(response) == "Event request failed (Invalid app token)"


@pytest.mark.unconfirmed
def test_it_answers_400_for_a_malformed_app_token(client):
    response = get(client, app_token="4W565XZMB54D")
    assert response.status_code == 400
    assert error_of(response) == "Event request failed (Invalid app token)"


def test_it_answers_404_for_an_unknown_app_token(client):
    response = get(client, app_token="nosuchapp123")
    assert response.status_code == 404
    assert error_of(response) == "Event request failed (App token not found)"


def test_it_answers_403_for_an_inactive_app(client):
    registry.register_adjust_app(ADJUST_APP, active=False)
    response = get(client)
    assert response.status_code == 403
    assert error_of(response) == "Event request failed (App is inactive)"


def test_it_answers_403_when_tracking_is_disabled_for_the_platform_in_os_name(client):
    registry.register_adjust_app(ADJUST_APP, platforms=["ios"], lenient_devices=False)
    response = get(client, os_name="android")
    assert response.status_code == 403
    assert error_of(response) == "Event request failed (Tracking disabled)"


@pytest.mark.unconfirmed
def test_it_infers_the_platform_from_the_identifier_type(client):
    registry.register_adjust_app(ADJUST_APP, platforms=["ios"], lenient_devices=False)
    response = get(client, idfa=None, gps_adid=GPS_ADID)
    assert response.status_code == 403
    assert error_of(response) == "Event request failed (Tracking disabled)"


# --- Over a real socket -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_accepts_a_form_post_over_http(live_server):
    response = requests.post(f"{live_server.url}{ADJUST_URL}", data=adjust_params(), timeout=5)
    assert response.status_code == 200
    assert response.json() == {"status": "OK"}
    assert events().count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_answers_413_over_http_without_reading_the_body(live_server):
    body = urlencode(adjust_params(padding="x" * 1_100_000))
    response = requests.post(
        f"{live_server.url}{ADJUST_URL}", data=body, headers={"Content-Type": FORM}, timeout=5
    )
    assert response.status_code == 413
    assert response.json() == {"error": "Event request failed (Request size too large)"}
