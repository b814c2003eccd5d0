"""The Adjust /event emulator (§5.4 of mmp-apis.md): S2S Security, the event token, and the event's fields."""

from urllib.parse import urlencode

import pytest

from events.emulator import registry
from tests.adjust_emulator_helpers import enable_auth, events, get
from tests.emulator_fixtures import (
    ADJUST_APP,
    ADJUST_URL,
    EVENT,
    SECURITY_TOKEN,
    adjust_params,
    emu_adjust,  # noqa: F401 - a fixture
    error_of,
)

pytestmark = pytest.mark.usefixtures("emu_adjust")


# --- S2S Security -------------------------------------------------------------------------


def test_it_accepts_the_active_security_token(client):
    enable_auth()
    assert get(client, auth=f"Bearer {SECURITY_TOKEN}").status_code == 200


def test_auth_mode_401_rejects_a_missing_token(client):
    enable_auth()
    response = get(client)
    assert response.status_code == 401
    assert error_of(response) == "Event request failed (Failed to authorize request)"


def test_auth_mode_401_rejects_a_wrong_token(client):
    enable_auth()
    response = get(client, auth="Bearer wrongwrongwrong")
    assert response.status_code == 401
    assert error_of(response) == "Event request failed (Failed to authorize request)"


def test_auth_mode_401_rejects_an_inactive_token(client):
    enable_auth()
    registry.add_adjust_security_token(ADJUST_APP, "old0token0inactive", active=False)
    response = get(client, auth="Bearer old0token0inactive")
    assert response.status_code == 401


@pytest.mark.unconfirmed
def test_it_answers_401_for_a_token_without_the_events_scope(client):
    enable_auth(scopes=["sessions"])
    response = get(client, auth=f"Bearer {SECURITY_TOKEN}")
    assert response.status_code == 401
    assert error_of(response) == "Event request failed (Failed to authorize request)"


def test_a_token_with_the_events_scope_is_accepted(client):
    enable_auth(scopes=["events"])
    assert get(client, auth=f"Bearer {SECURITY_TOKEN}").status_code == 200


@pytest.mark.unconfirmed
def test_auth_mode_202_answers_missing_authentication_token(client):
    enable_auth(mode="202")
    response = get(client)
    assert response.status_code == 202
    assert response.json() == {"error": "Event request failed (Missing authentication token)"}
    assert not events().exists()


@pytest.mark.unconfirmed
def test_auth_mode_202_answers_wrong_authentication_token(client):
    enable_auth(mode="202")
    response = get(client, auth="Bearer wrongwrongwrong")
    assert response.status_code == 202
    assert error_of(response) == "Event request failed (Wrong authentication token)"


def test_it_accepts_a_token_while_auth_is_off(client):
    registry.add_adjust_security_token(ADJUST_APP, SECURITY_TOKEN)
    assert get(client, auth="Bearer anything").status_code == 200


def test_auth_is_off_once_every_token_is_deactivated(client):
    enable_auth(active=False)
    assert get(client).status_code == 200


def test_auth_applies_only_to_the_enforced_scopes(client):
    enable_auth()
    registry.register_adjust_app(
        ADJUST_APP, auth_enabled=True, auth_enforced_scopes=["sessions"], lenient_devices=False
    )
    assert get(client).status_code == 200


def test_the_recorded_request_masks_the_security_token(client):
    enable_auth()
    get(client, auth=f"Bearer {SECURITY_TOKEN}")
    event = events().get()
    assert event.request_auth == "Bearer ••••b5oe"
    assert SECURITY_TOKEN not in str(event.__dict__)


def test_the_admin_lists_security_tokens_masked(admin_client):
    enable_auth()
    page = admin_client.get("/admin/emulator/emuadjustsecuritytoken/").content.decode()
    assert "••••b5oe" in page
    assert SECURITY_TOKEN not in page


# --- Event token --------------------------------------------------------------------------


def test_it_answers_400_for_an_unknown_event_token(client):
    response = get(client, event_token="abc123")
    assert response.status_code == 400
    assert error_of(response) == "Event request failed (Invalid event token)"


def test_it_answers_400_for_a_missing_event_token(client):
    assert error_of(get(client, event_token=None)) == "Event request failed (Invalid event token)"


def test_it_answers_400_for_an_event_token_of_another_app(client):
    response = get(client, event_token="xyzklm")
    assert response.status_code == 400
    assert error_of(response) == "Event request failed (Invalid event token)"


def test_it_answers_403_for_a_blocklisted_event_token(client):
    registry.add_adjust_event_token(ADJUST_APP, EVENT, blocklisted=True)
    response = get(client)
    assert response.status_code == 403
    assert error_of(response) == "Event request failed (Event token blocklisted)"


# --- Callback and partner parameters ------------------------------------------------------


def test_it_records_flat_string_callback_params(client):
    params = '{"order_id":"42","item_id":"[\\"76524\\",\\"62599\\"]"}'
    assert get(client, callback_params=params, partner_params='{"p":"1"}').status_code == 200
    event = events().get()
    assert event.callback_params == {"order_id": "42", "item_id": '["76524","62599"]'}
    assert event.partner_params == {"p": "1"}


def test_it_answers_400_for_nested_callback_params(client):
    response = get(client, callback_params='{"a":{"b":"c"}}')
    assert response.status_code == 400
    assert error_of(response) == "Event request failed (Invalid callback parameters)"


def test_it_answers_400_for_callback_params_that_are_an_array(client):
    assert get(client, callback_params='["a","b"]').status_code == 400


def test_it_answers_400_for_a_number_in_callback_params(client):
    assert get(client, callback_params='{"price":9.99}').status_code == 400


def test_it_answers_400_for_callback_params_that_were_not_url_encoded(client):
    raw = urlencode(adjust_params()) + '&callback_params={"q":"a&b"}'
    response = client.get(ADJUST_URL + "?" + raw)
    assert response.status_code == 400
    assert error_of(response) == "Event request failed (Invalid callback parameters)"


@pytest.mark.unconfirmed
def test_bad_partner_params_get_the_callback_message(client):
    response = get(client, partner_params='{"a":null}')
    assert response.status_code == 400
    assert error_of(response) == "Event request failed (Invalid callback parameters)"


@pytest.mark.unconfirmed
def test_an_empty_optional_parameter_counts_as_absent(client):
    response = get(client, callback_params="", revenue="", environment="", created_at="")
    assert response.status_code == 200
    assert events().get().environment == "production"


# --- Revenue and environment --------------------------------------------------------------


def test_it_records_revenue_and_currency(client):
    assert get(client, revenue="149.99", currency="EUR").status_code == 200
    event = events().get()
    assert (str(event.revenue.normalize()), event.currency) == ("149.99", "EUR")


def test_it_answers_400_for_malformed_revenue(client):
    response = get(client, revenue="abc", currency="EUR")
    assert response.status_code == 400
    assert error_of(response) == "Event request failed (Invalid revenue)"


def test_it_answers_400_for_revenue_over_100_billion(client):
    assert get(client, revenue="1e12", currency="EUR").status_code == 400


@pytest.mark.unconfirmed
def test_it_answers_400_for_revenue_below_the_minimum(client):
    assert error_of(get(client, revenue="0.0005", currency="EUR")) == "Event request failed (Invalid revenue)"


@pytest.mark.unconfirmed
def test_it_accepts_revenue_without_currency(client):
    assert get(client, revenue="1.00").status_code == 200


@pytest.mark.unconfirmed
def test_an_app_can_require_currency_with_revenue(client):
    registry.register_adjust_app(ADJUST_APP, require_currency_with_revenue=True, lenient_devices=False)
    assert error_of(get(client, revenue="1.00")) == "Event request failed (Invalid revenue)"


def test_the_environment_defaults_to_production(client):
    get(client)
    assert events().get().environment == "production"


def test_it_records_the_sandbox_environment(client):
    get(client, environment="sandbox")
    assert events().get().environment == "sandbox"


@pytest.mark.unconfirmed
def test_it_answers_400_for_an_unknown_environment(client):
    response = get(client, environment="staging")
    assert response.status_code == 400
    assert error_of(response) == "Event request failed (Invalid environment)"
