"""AppsFlyer and Singular over real parts: seed_demo -> send_event -> Redis -> a real RQ worker ->
the emulator over a socket -> the Attempt row, for a delivery and for each MMP's way of refusing."""

import json
from urllib.parse import parse_qsl

import pytest
from django.core.management import call_command

from events.models import Attempt, Delivery, Status
from tests.conftest import run_worker

pytestmark = pytest.mark.django_db(transaction=True)
AF_ID = "1700000000000-1234567"
SDID = "40009df0-d618-4d81-9da1-cbb3337b8dec"


@pytest.fixture
def demo(emulator):
    call_command("seed_demo")
    return emulator


def send(*args: str) -> Delivery:
    call_command("send_event", *args)
    run_worker()
    return Delivery.objects.latest("pk")


def test_an_appsflyer_event_is_delivered_with_its_json_body_and_token_masked(demo, live_server):
    delivery = send(
        "Demo AppsFlyer iOS", "af_purchase", "--device", f"appsflyer_id={AF_ID}", "--revenue", "4.99",
        "--currency", "USD", "--created-at", "2025-01-01T12:00:00Z", "--set", "os_version=17.5",
    )  # fmt: skip
    assert delivery.status == Status.DELIVERED
    attempt = Attempt.objects.get(delivery=delivery)
    assert attempt.url == f"{live_server.url}/emulator/appsflyer/inappevent/id1234567890"
    assert attempt.request_headers["authentication"].startswith("••••")
    body = json.loads(attempt.request_body)
    assert body["eventTime"] == "2025-01-01 12:00:00.000"
    assert body["eventValue"] == '{"af_revenue":"4.99","af_currency":"USD"}'
    assert (attempt.response_status, attempt.response_body) == (200, "OK")
    assert "minimal validation" in delivery.last_explanation
    [row] = demo.recorded_events("appsflyer")
    assert row.device_ids == {"appsflyer_id": AF_ID} and not row.dropped_silently


def test_an_appsflyer_plan_without_s2s_fails_with_the_plan_explained(demo):
    demo.register_appsflyer_app("id1234567890", "ios", zero_plan=True)
    delivery = send("Demo AppsFlyer iOS", "af_purchase", "--device", f"appsflyer_id={AF_ID}")
    assert delivery.status == Status.FAILED
    assert (delivery.last_http_status, delivery.last_message) == (403, "Forbidden")
    assert "plan" in delivery.last_explanation


def test_a_singular_event_is_delivered_as_a_form_with_the_sdk_key_masked(demo, live_server):
    delivery = send(
        "Demo Singular Android", "level_up", "--device", f"sdid={SDID}", "--ip", "203.0.113.7",
        "--set", 'attributes={"level": "3"}',
    )  # fmt: skip
    assert delivery.status == Status.DELIVERED
    attempt = Attempt.objects.get(delivery=delivery)
    assert attempt.url == f"{live_server.url}/emulator/singular/api/v2/evt"
    sent = dict(parse_qsl(attempt.request_body))
    assert sent["a"].startswith("••••") and sent["e"] == '{"level":"3"}'
    assert (attempt.response_status, json.loads(attempt.response_body)) == (200, {"status": "ok"})
    [row] = demo.recorded_events("singular")
    assert row.device_ids == {"sdid": SDID} and "attribution" not in row.params


def test_a_singular_refusal_in_a_200_is_a_failure_not_a_delivery(demo):
    demo.reset_emulator()  # Singular no longer knows the demo SDK key
    delivery = send("Demo Singular Android", "level_up", "--device", f"sdid={SDID}", "--ip", "203.0.113.7")
    assert delivery.status == Status.FAILED
    assert (delivery.last_http_status, delivery.last_message) == (200, "invalid sdk key")
    assert demo.recorded_events("singular").count() == 0
