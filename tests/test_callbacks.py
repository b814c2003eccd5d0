"""Result callbacks over real parts: an admin sets the URL (the secret is shown once), a real
worker sends the event to the emulator, a real worker on the callbacks queue posts the result to
a real HTTP receiver that checks the Standard Webhooks signature with its own code."""

import json
import re
from datetime import timedelta

import django_rq
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events.callbacks import outbox
from events.callbacks.models import Callback, CallbackAttempt, CallbackEndpoint
from events.engine import create_delivery
from events.models import AuditEntry, Source, Status
from tests.conftest import IDFA, run_worker
from tests.local_server import LocalServer
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiver(settings):
    settings.CALLBACK_ALLOW_PRIVATE_ADDRESSES = True
    settings.CALLBACK_BACKOFF = [0, 0]
    handler = Receiver()
    with LocalServer(handler) as server:
        handler.server = server
        yield handler


@pytest.fixture
def callback_app(adjust, emulator, receiver, client_for, admin):
    """The Adjust demo app, answered with SKAN values, whose results go to the receiver: set on the
    admin's page, which shows the secret once."""
    emulator.register_adjust_app(adjust.app_key, event_tokens=["f0ob4r"], skan_enabled=True)
    page = client_for(admin).post(
        f"/manage/apps/{adjust.pk}/callback/save/", {"url": f"{receiver.server.url}/s2s-results"}
    )
    assert page.status_code == 200
    assert "no-cache" in page["Cache-Control"] or "no-store" in page["Cache-Control"]
    receiver.secret = re.search(r'id="callback-secret">(whsec_[A-Za-z0-9+/=]+)<', page.content.decode())[1]
    return adjust


def send(app, revenue: str = "20"):
    token = app.event_tokens.get(token="f0ob4r")
    fields = {"device_ids": {"idfa": IDFA}, "revenue": revenue, "currency": "EUR"}
    delivery, _ = create_delivery(app, token, fields, source=Source.API)
    return delivery


def run_callback_worker() -> None:
    django_rq.get_worker("callbacks").work(burst=True)


def test_a_final_result_is_posted_signed_and_the_receiver_verifies_it(
    callback_app, receiver, client_for, viewer
):
    delivery = send(callback_app)
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED
    # The sends never wait on a callback: it is an outbox row on a queue of its own.
    assert receiver.server.requests == []
    assert Callback.objects.get(delivery=delivery).state == Callback.State.PENDING

    run_callback_worker()
    assert receiver.refused == 0
    assert len(receiver.verified) == 1
    posted = receiver.verified[0]["body"]
    assert posted["type"] == "delivery.finished"
    data = posted["data"]
    assert data["delivery_id"] == delivery.pk
    assert (data["status"], data["mmp"], data["app"], data["event"]) == (
        "delivered",
        "adjust",
        callback_app.name,
        "f0ob4r",
    )
    assert data["http_status"] == 200
    assert data["explanation"] == "Adjust recorded the event."
    assert data["skan"] == {"fine_value": 20, "coarse_value": "low", "lock_window": False}
    assert [a["outcome"] for a in data["attempts"]] == ["delivered"]
    assert data["attempts"][0]["skan"] == data["skan"]

    callback = Callback.objects.get(delivery=delivery)
    assert callback.state == Callback.State.DELIVERED and callback.attempt_count == 1
    headers = {k.lower(): v for k, v in receiver.verified[0]["headers"].items()}
    assert headers["webhook-id"] == callback.message_id
    attempt = CallbackAttempt.objects.get(callback=callback)
    assert attempt.response_status == 204 and attempt.outcome == "delivered"
    assert attempt.request_headers["webhook-signature"].startswith("v1,")

    page = client_for(viewer).get(f"/deliveries/{delivery.pk}/").content.decode()
    assert 'id="result-callback"' in page and callback.message_id in page
    assert "The receiver accepted the result (HTTP 204)." in page


def test_a_refused_try_is_retried_with_the_same_webhook_id(callback_app, receiver):
    receiver.script = [503]
    delivery = send(callback_app)
    run_worker()
    run_callback_worker()  # CALLBACK_BACKOFF is [0, 0]: the retry goes straight back on the queue
    callback = Callback.objects.get(delivery=delivery)
    assert callback.state == Callback.State.DELIVERED
    tries = list(callback.attempts.order_by("number"))
    assert [(t.response_status, t.outcome) for t in tries] == [(503, "retry"), (204, "delivered")]
    assert "HTTP 503" in tries[0].explanation
    ids = {dict((k.lower(), v) for k, v in r[2].items())["webhook-id"] for r in receiver.server.requests}
    assert ids == {callback.message_id}
    assert tries[0].request_body == tries[1].request_body  # the same message, signed again


def test_a_receiver_that_never_accepts_ends_failed_after_the_backoff(callback_app, receiver):
    receiver.script = [500, 500, 500, 500]
    delivery = send(callback_app)
    run_worker()
    run_callback_worker()
    callback = Callback.objects.get(delivery=delivery)
    assert callback.state == Callback.State.FAILED
    assert callback.attempt_count == 3  # the first try and one per CALLBACK_BACKOFF step
    assert "Gave up after 3 tries" in callback.last_explanation


def test_a_rotated_secret_is_what_signs_from_then_on(callback_app, receiver, client_for, admin):
    old_secret = receiver.secret
    page = client_for(admin).post(f"/manage/apps/{callback_app.pk}/callback/rotate/", {"confirmed": "yes"})
    new_secret = re.search(r'id="callback-secret">(whsec_[^<]+)<', page.content.decode())[1]
    assert new_secret != old_secret
    send(callback_app)
    run_worker()
    run_callback_worker()
    # The receiver still holds the old secret: every try fails its check.
    assert receiver.verified == [] and receiver.refused == 3
    receiver.secret = new_secret
    Callback.objects.update(state=Callback.State.RETRYING, next_attempt_at=timezone.now())
    outbox.enqueue(list(Callback.objects.values_list("pk", flat=True)))
    run_callback_worker()
    assert len(receiver.verified) == 1


def test_a_redirect_is_not_followed(callback_app, receiver):
    receiver.script = [302, 302, 302]
    delivery = send(callback_app)
    run_worker()
    run_callback_worker()
    tries = CallbackAttempt.objects.filter(callback__delivery=delivery).order_by("number")
    assert "redirects are not followed" in tries[0].explanation
    assert len(receiver.server.requests) == 3  # and nothing went to the Location


def test_private_addresses_are_refused_unless_the_setting_allows_them(
    callback_app, receiver, settings, client_for, admin
):
    settings.CALLBACK_ALLOW_PRIVATE_ADDRESSES = False
    page = client_for(admin).post(
        f"/manage/apps/{callback_app.pk}/callback/save/", {"url": "http://127.0.0.1:8080/x"}
    )
    assert page.status_code == 400
    assert "private or reserved address (127.0.0.1)" in page.content.decode()
    for url in ("http://169.254.169.254/latest/meta-data/", "http://[::1]/x", "http://10.0.0.5/x"):
        assert (
            b"private or reserved address"
            in client_for(admin).post(f"/manage/apps/{callback_app.pk}/callback/save/", {"url": url}).content
        )
    # Saved while allowed, refused at send time once it is not: checked before every try.
    delivery = send(callback_app)
    run_worker()
    run_callback_worker()
    first = CallbackAttempt.objects.filter(callback__delivery=delivery).order_by("number").first()
    assert first.outcome == "retry"
    assert (
        "Refused to connect to 127.0.0.1" in first.error and "CALLBACK_ALLOW_PRIVATE_ADDRESSES" in first.error
    )
    assert receiver.server.requests == []


def test_the_secret_is_encrypted_at_rest_masked_on_the_page_and_in_the_audit(
    callback_app, receiver, client_for, admin
):
    endpoint = CallbackEndpoint.objects.get(app=callback_app)
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM events_callbackendpoint WHERE id = %s", [endpoint.pk])
        stored = cursor.fetchone()[0]
    assert receiver.secret not in stored and not stored.startswith("whsec_")
    page = client_for(admin).get(f"/manage/apps/{callback_app.pk}/callback/").content.decode()
    assert receiver.secret not in page
    assert endpoint.secret_masked in page
    entry = AuditEntry.objects.get(action="callback.added")
    assert receiver.secret not in json.dumps(entry.changes)
    assert entry.changes["url"][1] == f"{receiver.server.url}/s2s-results"


def test_marketers_cannot_manage_the_callback(callback_app, client_for, marketer):
    client = client_for(marketer)
    assert client.get(f"/manage/apps/{callback_app.pk}/callback/").status_code == 403
    assert (
        client.post(
            f"/manage/apps/{callback_app.pk}/callback/save/", {"url": "https://x.example"}
        ).status_code
        == 403
    )


def test_an_app_without_a_callback_gets_no_outbox_rows(adjust):
    send(adjust)
    run_worker()
    assert not Callback.objects.exists()


def test_a_switched_off_endpoint_fails_its_waiting_callbacks_unsent(
    callback_app, receiver, client_for, admin
):
    send(callback_app)
    run_worker()
    client_for(admin).post(f"/manage/apps/{callback_app.pk}/callback/deactivate/", {"confirmed": "yes"})
    run_callback_worker()
    callback = Callback.objects.get()
    assert callback.state == Callback.State.FAILED
    assert "switched off" in callback.last_explanation
    assert receiver.server.requests == []


def test_a_callback_whose_job_was_lost_is_enqueued_again_by_the_sweep(
    callback_app, receiver, redis_conn, settings
):
    send(callback_app)
    run_worker()
    redis_conn.flushdb()  # Redis lost the job (a restart without persistence)
    Callback.objects.update(created_at=timezone.now() - timedelta(seconds=settings.RECONCILE_GRACE + 5))
    assert outbox.requeue_stale() == 1
    run_callback_worker()
    assert len(receiver.verified) == 1


def endpoint_lookups(queries) -> int:
    return sum("events_callbackendpoint" in query["sql"] for query in queries)


def test_a_run_looks_up_an_app_without_an_endpoint_once_not_per_batch(adjust):
    without = set()
    deliveries = [send(adjust) for _ in range(3)]
    for delivery in deliveries:  # one batch each, as a send run records them
        with CaptureQueriesContext(connection) as queries:
            assert outbox.add_results([(delivery.pk, adjust.pk)], without) == []
        assert endpoint_lookups(queries) == (1 if delivery is deliveries[0] else 0)
    assert without == {adjust.pk}
    assert not Callback.objects.exists()


def test_an_app_with_an_endpoint_is_looked_up_each_batch_so_a_deleted_one_is_never_named(callback_app):
    without = set()
    first, second = send(callback_app), send(callback_app)
    with CaptureQueriesContext(connection) as queries:
        assert len(outbox.add_results([(first.pk, callback_app.pk)], without)) == 1
    assert endpoint_lookups(queries) == 1 and without == set()
    CallbackEndpoint.objects.filter(app=callback_app).delete()  # meanwhile, during the same run
    assert outbox.add_results([(second.pk, callback_app.pk)], without) == []
    assert without == {callback_app.pk}
