"""Idempotency-Key under concurrency, over a live server: a retry after a timeout is the
concurrent case, so exactly one request's events may ever be queued.

Five requests with one key go out at the same moment (a barrier releases them together), each on
its own connection to a real server thread, against the test database (PostgreSQL in CI).
"""

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from events.api.keys import create_api_key
from events.engine import send_queue
from events.models import ApiRequest, Delivery
from tests.conftest import IDFA

pytestmark = pytest.mark.django_db(transaction=True)

REQUESTS = 5
EVENTS_PER_REQUEST = 200


@pytest.fixture
def post_together(live_server, adjust_app, redis_conn, settings):
    """post_together(bodies, key) -> the answers to posting every body at once with that Idempotency-Key."""
    settings.SEND_BATCH_SIZE = 100
    _, raw = create_api_key("retrying backend", [adjust_app], rate_limit_per_minute=100_000)

    def post(bodies: list[dict], idempotency_key: str) -> list[requests.Response]:
        barrier = threading.Barrier(len(bodies))
        headers = {"Authorization": f"Bearer {raw}", "Idempotency-Key": idempotency_key}

        def one(body: dict) -> requests.Response:
            data = json.dumps(body)
            with requests.Session() as session:
                barrier.wait(10)
                return session.post(
                    f"{live_server.url}/api/v1/events", data=data, headers=headers, timeout=60
                )

        with ThreadPoolExecutor(len(bodies)) as pool:
            return list(pool.map(one, bodies))

    return post


def batch(device_offset: int = 0) -> dict:
    """EVENTS_PER_REQUEST Adjust events without ids (only the key protects them)."""
    return {
        "events": [
            {
                "app": "Demo Adjust iOS",
                "event": "f0ob4r",
                "device_ids": {"idfa": IDFA},
                "callback_params": {"n": str(device_offset + i)},
            }
            for i in range(EVENTS_PER_REQUEST)
        ]
    }


def queued_ids() -> list[int]:
    return [delivery_id for job in send_queue().get_jobs() for delivery_id in job.args[0]]


def test_concurrent_repeats_of_one_request_queue_its_events_once(post_together):
    answers = post_together([batch()] * REQUESTS, "retry-after-timeout")
    assert [a.status_code for a in answers] == [202] * REQUESTS
    bodies = [a.json() for a in answers]
    assert all(body == bodies[0] for body in bodies)
    assert bodies[0]["accepted"] == EVENTS_PER_REQUEST
    delivery_ids = sorted(r["delivery_id"] for r in bodies[0]["results"])
    assert Delivery.objects.count() == EVENTS_PER_REQUEST
    assert sorted(queued_ids()) == delivery_ids
    assert ApiRequest.objects.count() == 1


def test_concurrent_requests_with_one_key_and_different_bodies_queue_one_body_only(post_together):
    answers = post_together([batch(device_offset=1000 * n) for n in range(REQUESTS)], "reused-key")
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [202] + [422] * (REQUESTS - 1)
    refused = [a.json() for a in answers if a.status_code == 422]
    assert all("different request body" in body["error"] for body in refused)
    winner = next(a.json() for a in answers if a.status_code == 202)
    delivery_ids = sorted(r["delivery_id"] for r in winner["results"])
    assert Delivery.objects.count() == EVENTS_PER_REQUEST
    assert sorted(queued_ids()) == delivery_ids
