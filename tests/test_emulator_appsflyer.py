"""The AppsFlyer /inappevent emulator over a real socket: its check order, its words, its silent
200 for a bare iOS app id, its late-event stamping and its faults (mmp-apis-more.md §1.1)."""

import json
from datetime import UTC, datetime

import pytest
import requests

from events.emulator import appsflyer as emu_appsflyer
from events.emulator import registry

TOKEN = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
OTHER_TOKEN = "ffffffff-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
AF_ID = "1415211453000-6513894"


@pytest.fixture
def base(live_server, db):
    registry.clear_faults()
    registry.register_appsflyer_app("id123456789", "ios", s2s_tokens=[TOKEN])
    registry.register_appsflyer_app("com.example.game", "android", s2s_tokens=[OTHER_TOKEN])
    return f"{live_server.url}/emulator/appsflyer/inappevent"


def event(**fields) -> dict:
    return {"appsflyer_id": AF_ID, "eventName": "af_purchase", "eventValue": "", **fields}


def post(url: str, body, *, token: str | None = TOKEN, content_type: str = "application/json"):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": content_type, **({"authentication": token} if token else {})}
    return requests.post(url, data=data, headers=headers, timeout=10)


def said(response) -> tuple[int, str]:
    return response.status_code, response.text


def recorded():
    return list(registry.recorded_events("appsflyer"))


def test_it_answers_ok_as_text_and_records_the_event(base):
    response = post(f"{base}/id123456789", event(eventValue='{"af_revenue":"4.99"}', eventCurrency="USD"))
    assert said(response) == (200, "OK")
    assert response.headers["Content-Type"].startswith("text/plain")
    [row] = recorded()
    assert (row.app_key, row.event_token, str(row.revenue), row.currency) == (
        "id123456789",
        "af_purchase",
        "4.990000",
        "USD",
    )
    assert row.device_ids == {"appsflyer_id": AF_ID} and not row.dropped_silently
    assert row.request_auth == "authentication ••••4c5d" and TOKEN not in row.request_body


def test_a_bare_ios_app_id_gets_200_ok_and_the_event_is_dropped(base):
    assert said(post(f"{base}/123456789", event())) == (200, "OK")
    [row] = recorded()
    assert row.dropped_silently


@pytest.mark.unconfirmed
def test_a_body_over_one_kilobyte_cannot_be_read(base):
    body = event(eventValue=json.dumps({"k": "x" * 1100}))
    assert said(post(f"{base}/id123456789", body)) == (400, "Payload is missing or failed to parse")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b"{not json", "application/json"), (b"[{}]", "application/json"), (b"appsflyer_id=1", "text/plain")],
)
def test_a_body_that_is_not_one_json_object_cannot_be_read(base, body, content_type):
    response = post(f"{base}/id123456789", body, content_type=content_type)
    assert said(response) == (400, "Payload is missing or failed to parse")


@pytest.mark.parametrize("token", [None, "unknown-token"])
def test_a_missing_or_unknown_token_fails_to_authenticate(base, token):
    assert said(post(f"{base}/id123456789", event(), token=token)) == (400, "Failed to Authenticate")


def test_another_apps_token_is_unauthorized(base):
    assert said(post(f"{base}/id123456789", event(), token=OTHER_TOKEN)) == (401, "Unauthorized")


def test_a_zero_plan_app_is_forbidden(base):
    registry.register_appsflyer_app("id123456789", "ios", zero_plan=True)
    assert said(post(f"{base}/id123456789", event())) == (403, "Forbidden")


@pytest.mark.parametrize("af_id", [None, "", "12345"])
def test_appsflyer_id_is_mandatory(base, af_id):
    body = event(appsflyer_id=af_id) if af_id is not None else {"eventName": "x", "eventValue": ""}
    assert said(post(f"{base}/id123456789", body)) == (400, "appsflyer_id is a mandatory field")


@pytest.mark.unconfirmed
@pytest.mark.parametrize("missing", ["eventName", "eventValue"])
def test_a_missing_event_name_or_value_is_a_bad_request(base, missing):
    body = {k: v for k, v in event().items() if k != missing}
    assert said(post(f"{base}/id123456789", body)) == (400, "Bad request")


def test_an_event_value_sent_as_an_object_is_an_internal_server_error(base):
    body = event(eventValue={"af_revenue": "4.99"})
    assert said(post(f"{base}/id123456789", body)) == (500, "Internal Server Error")
    assert recorded() == []


def test_the_check_order_puts_authentication_before_the_event(base):
    assert said(post(f"{base}/id123456789", {"eventName": "x"}, token=None)) == (
        400,
        "Failed to Authenticate",
    )


def test_an_event_in_by_two_the_next_day_keeps_its_time():
    arrival = datetime(2025, 1, 2, 1, 59, tzinfo=UTC)
    assert emu_appsflyer.stamped_at("2025-01-01 12:00:00.000", arrival) == (
        datetime(2025, 1, 1, 12, 0, tzinfo=UTC),
        "eventTime",
    )


def test_a_late_event_is_stamped_with_its_arrival():
    arrival = datetime(2025, 1, 2, 2, 1, tzinfo=UTC)
    moment, why = emu_appsflyer.stamped_at("2025-01-01 12:00:00.000", arrival)
    assert moment == arrival and why.startswith("arrival: late")


@pytest.mark.unconfirmed
def test_an_iso_event_time_is_counted_at_arrival(base):
    assert said(post(f"{base}/id123456789", event(eventTime="2020-08-14T05:30:30.118Z"))) == (200, "OK")
    [row] = recorded()
    assert row.params["stamped_at"] == "arrival: eventTime not in yyyy-mm-dd hh:mm:ss.sss"


def test_faults_apply_to_appsflyer(base):
    registry.script_faults(["500", "429"], provider="appsflyer")
    assert said(post(f"{base}/id123456789", event())) == (500, "Internal Server Error")
    response = post(f"{base}/id123456789", event())
    assert said(response) == (429, "Too Many Requests") and response.headers["Retry-After"] == "1"
    assert recorded() == []


def test_a_dropped_connection_gives_no_answer(base):
    registry.script_faults(["drop"], provider="appsflyer")
    with pytest.raises(requests.ConnectionError):
        post(f"{base}/id123456789", event())


def test_get_is_not_an_endpoint(base):
    assert requests.get(f"{base}/id123456789", timeout=10).status_code == 405
