"""The ingestion API: auth and scopes, per-item results, idempotency, rate limit, every status."""

import json

import pytest
from django.core.management import CommandError, call_command

from events.api.keys import create_api_key, revoke
from events.engine import send_queue
from events.models import ApiKey, Delivery, Source, Status
from tests.api_fixtures import *  # noqa: F403 (the fixtures api and raw_key)
from tests.api_fixtures import adjust_event, tenjin_event
from tests.conftest import run_worker

pytestmark = pytest.mark.django_db


def test_one_event_is_queued(api):
    response = api("post", "/events", adjust_event(id="order-1"))
    assert response.status_code == 202
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (1, 0)
    delivery = Delivery.objects.get(pk=body["results"][0]["delivery_id"])
    assert (delivery.source, delivery.status, delivery.idempotency_key) == (
        Source.API,
        Status.QUEUED,
        "order-1",
    )
    assert send_queue().count == 1


def test_a_batch_queues_the_good_events_and_explains_the_bad_ones(api):
    events = [adjust_event(), adjust_event(ip_address="::1"), tenjin_event(), {"app": "Nope", "event": "x"}]
    body = api("post", "/events", {"events": events}).json()
    assert [r["status"] for r in body["results"]] == ["accepted", "rejected", "accepted", "rejected"]
    assert "IPv4" in body["results"][1]["errors"]["ip_address"][0]
    assert "No app 'Nope'" in body["results"][3]["errors"]["app"][0]
    assert Delivery.objects.count() == 2


def test_the_same_event_id_is_queued_once_across_requests_and_within_a_batch(api):
    first = api("post", "/events", {"events": [adjust_event(id="a"), adjust_event(id="a")]}).json()
    again = api("post", "/events", adjust_event(id="a")).json()
    assert [r["status"] for r in first["results"]] == ["accepted", "duplicate"]
    assert first["results"][1]["delivery_id"] == first["results"][0]["delivery_id"]
    assert again["results"][0] == {**first["results"][0], "status": "duplicate", "index": 0}
    assert Delivery.objects.count() == 1


def test_an_idempotency_key_replays_the_first_answer(api):
    body = {"events": [adjust_event(), adjust_event(ip_address="::1")]}
    first = api("post", "/events", body, HTTP_IDEMPOTENCY_KEY="req-1")
    second = api("post", "/events", body, HTTP_IDEMPOTENCY_KEY="req-1")
    assert second.status_code == 202
    assert second.json() == first.json()
    assert Delivery.objects.count() == 1


def test_an_idempotency_key_reused_with_another_body_is_refused(api):
    api("post", "/events", adjust_event(), HTTP_IDEMPOTENCY_KEY="req-1")
    response = api("post", "/events", tenjin_event(), HTTP_IDEMPOTENCY_KEY="req-1")
    assert response.status_code == 422
    assert "different request body" in response.json()["error"]


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ("{not json", ""),
        ("[1, 2]", "body"),
        ({"events": []}, "events"),
        ({"events": [adjust_event()] * 1001}, "events"),
        ({"events": [42]}, "events"),
        ({"app": "Demo Adjust iOS"}, "event"),
    ],
)
def test_a_malformed_body_gets_a_clear_400(api, body, where):
    response = api("post", "/events", body)
    assert response.status_code == 400
    assert response.json()["error"] == "The request body is not valid."
    assert any(where in detail["where"] for detail in response.json()["details"])
    assert Delivery.objects.count() == 0


@pytest.mark.parametrize("key", [None, "s2s_nope_nope", "garbage"])
def test_a_missing_or_unknown_key_gets_401(api, key):
    response = api("post", "/events", adjust_event(), key=key)
    assert response.status_code == 401
    assert "Bearer" in response.json()["error"]


def test_a_revoked_key_gets_401(api, raw_key):
    revoke(ApiKey.objects.get())
    assert api("post", "/events", adjust_event()).status_code == 401


def test_a_key_sends_only_to_its_apps(api, adjust_app, tenjin_app, redis_conn, client):
    _, adjust_only = create_api_key("adjust only", [adjust_app])
    body = api("post", "/events", {"events": [adjust_event(), tenjin_event()]}, key=adjust_only).json()
    assert [r["status"] for r in body["results"]] == ["accepted", "rejected"]
    tenjin_delivery = api("post", "/events", tenjin_event()).json()["results"][0]["delivery_id"]
    assert api("get", f"/deliveries/{tenjin_delivery}", key=adjust_only).status_code == 404


def test_the_rate_limit_answers_429_with_retry_after(api, adjust_app):
    _, slow = create_api_key("slow", [adjust_app], rate_limit_per_minute=2)
    statuses = [api("post", "/events", adjust_event(), key=slow).status_code for _ in range(3)]
    assert statuses == [202, 202, 429]
    response = api("post", "/events", adjust_event(), key=slow)
    assert 1 <= int(response["Retry-After"]) <= 61
    assert "Rate limit" in response.json()["error"]


def test_the_key_is_stored_only_as_a_keyed_hash(raw_key):
    key = ApiKey.objects.get()
    assert raw_key not in json.dumps(list(ApiKey.objects.values()), default=str)
    assert raw_key.startswith(key.prefix) and key.key_hash != raw_key


def test_a_delivery_reports_its_status_attempts_and_last_answer(
    api, emulator, adjust_app, adjust_security_token
):
    from tests.conftest import ADJUST_SECURITY_TOKEN

    emulator.register_adjust_app(
        adjust_app.app_key, event_tokens=["f0ob4r"], security_tokens=[ADJUST_SECURITY_TOKEN]
    )
    delivery_id = api("post", "/events", adjust_event()).json()["results"][0]["delivery_id"]
    run_worker()
    body = api("get", f"/deliveries/{delivery_id}").json()
    assert (body["status"], body["final"], body["last_http_status"]) == ("delivered", True, 200)
    assert body["attempts"][0]["outcome"] == "delivered"
    assert "OK" in body["last_response_body"]


def test_an_unknown_delivery_is_404(api):
    assert api("get", "/deliveries/999999").status_code == 404


def test_accepting_a_batch_costs_a_few_queries_not_one_per_event(
    api, django_assert_max_num_queries, settings
):
    settings.SEND_BATCH_SIZE = 100
    events = [adjust_event(id=f"e{i}", callback_params={"n": str(i)}) for i in range(300)]
    with django_assert_max_num_queries(20):
        body = api("post", "/events", {"events": events}).json()
    assert body["accepted"] == 300
    assert send_queue().count == 3  # ids in batches, one pipelined round trip


def test_the_openapi_document_describes_both_operations(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert {"/api/v1/events", "/api/v1/deliveries/{delivery_id}"} <= set(schema["paths"])
    assert schema["paths"]["/api/v1/events"]["post"]["responses"].keys() >= {"202", "400", "401", "429"}


def test_create_api_key_prints_the_key_once(capsys, adjust_app):
    call_command("create_api_key", "backend", "--app", adjust_app.name)
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1].startswith("s2s_")


def test_every_key_authenticates_whatever_characters_its_secret_has(adjust_app):
    from events.api.keys import authenticate

    for _ in range(50):  # url-safe secrets contain "_" and "-" now and then
        key, raw = create_api_key("k", [adjust_app])
        assert authenticate(raw) == key


@pytest.mark.parametrize("app", ["²", "٣", "1e3", -1])
def test_an_app_reference_that_only_looks_like_an_id_is_rejected_not_a_500(api, app):
    response = api("post", "/events", adjust_event(app=app))
    assert response.status_code in (202, 400)
    if response.status_code == 202:
        assert response.json()["results"][0]["status"] == "rejected"


@pytest.mark.parametrize(
    "event",
    [
        adjust_event(id="order\x00-1"),
        adjust_event(user_agent="Mozilla\x00"),
        adjust_event(callback_params={"k\x00": "v"}),
        adjust_event(fields={"os_version": "17\x00"}),
    ],
)
def test_a_nul_character_anywhere_is_refused_by_field_never_a_500(api, event):
    response = api("post", "/events", {"events": [event, adjust_event()]}, HTTP_IDEMPOTENCY_KEY="nul")
    assert response.status_code == 202
    first, second = response.json()["results"]
    assert first["status"] == "rejected"
    assert "NUL character" in next(iter(first["errors"].values()))[0]
    assert second["status"] == "accepted"


def test_an_idempotency_key_too_long_to_store_is_refused_not_cut_short(api):
    # Cut to 200 characters, these two keys would be one.
    for last in "ab":
        response = api("post", "/events", adjust_event(), HTTP_IDEMPOTENCY_KEY="k" * 200 + last)
        assert response.status_code == 400
        assert response.json()["error"] == (
            "Idempotency-Key is 201 characters long; at most 200 are allowed."
        )
    assert Delivery.objects.count() == 0
    assert send_queue().count == 0


@pytest.mark.parametrize(
    ("rate_limit", "message"),
    [
        ("-5", "--rate-limit: Ensure this value is greater than or equal to 1."),
        ("0", "--rate-limit: Ensure this value is greater than or equal to 1."),
        ("100001", "--rate-limit: Ensure this value is less than or equal to 100000."),
    ],
)
def test_create_api_key_refuses_a_rate_limit_no_key_could_use(adjust_app, rate_limit, message):
    with pytest.raises(CommandError) as refused:
        call_command("create_api_key", "backend", "--app", adjust_app.name, "--rate-limit", rate_limit)
    assert str(refused.value) == f"No key was created:\n  {message}"
    assert ApiKey.objects.count() == 0
