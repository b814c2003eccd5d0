"""/metrics: who may read it, and what it shows after real sends (workers' counters kept in Redis,
gauges read at scrape time)."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from events.engine import create_delivery
from events.metrics.collector import ExtraGauge, S2SCollector
from events.models import App, Delivery, Source
from tests.conftest import IDFA, run_worker
from tests.local_server import LocalServer, answer, free_port

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "scrape-token-0123456789"
APP = "Demo Adjust iOS"


def scrape(client, token: str | None = TOKEN) -> dict[tuple[str, tuple], float]:
    """The samples of one scrape, by (name, sorted labels)."""
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def send(app, device: str = IDFA, token: str = "f0ob4r") -> Delivery:
    delivery, _ = create_delivery(
        app, app.event_tokens.get(token=token), {"device_ids": {"idfa": device}}, source=Source.API
    )
    return delivery


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_ADDRESSES = []
    return TOKEN


# --- Access ---------------------------------------------------------------------------------


def test_metrics_are_off_until_a_token_or_an_address_is_set(client, settings, redis_conn):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_ADDRESSES = []
    response = client.get("/metrics")
    assert response.status_code == 403
    assert b"METRICS_TOKEN" in response.content


def test_without_the_token_a_scraper_gets_401(client, metrics_token, redis_conn):
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, {"HTTP_AUTHORIZATION": TOKEN}):
        response = client.get("/metrics", **headers)
        assert response.status_code == 401, headers
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert b"s2s_" not in response.content


def test_with_the_token_a_scraper_reads_them_without_logging_in(client, metrics_token, redis_conn):
    samples = scrape(client)
    assert samples[("s2s_up", (("component", "redis"),))] == 1
    assert samples[("s2s_up", (("component", "database"),))] == 1


def test_an_allowed_address_reads_them_without_a_token(client, settings, redis_conn):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_ADDRESSES = ["10.0.0.0/8", "127.0.0.1"]
    assert client.get("/metrics").status_code == 200  # the test client comes from 127.0.0.1
    settings.METRICS_ALLOWED_ADDRESSES = ["10.0.0.0/8"]
    response = client.get("/metrics")
    assert response.status_code == 403
    assert b"METRICS_ALLOWED_ADDRESSES" in response.content


def test_a_forwarded_address_counts_only_through_a_trusted_proxy(client, settings, redis_conn):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_ADDRESSES = ["10.1.2.3"]
    forwarded = {"HTTP_X_FORWARDED_FOR": "10.1.2.3"}
    assert client.get("/metrics", **forwarded).status_code == 403
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    assert client.get("/metrics", **forwarded).status_code == 200


# --- What a scrape shows --------------------------------------------------------------------


def test_deliveries_attempts_and_latency_are_counted_by_the_workers(client, metrics_token, adjust):
    send(adjust)
    send(adjust, device="11111111-2222-3333-4444-555555555555")
    # An event token the emulated Adjust does not know: a permanent failure.
    adjust.event_tokens.create(name="Unknown", token="zzz999")
    send(adjust, token="zzz999")
    run_worker()

    samples = scrape(client)
    delivered = ("s2s_deliveries_total", (("app", APP), ("mmp", "adjust"), ("status", "delivered")))
    failed = ("s2s_deliveries_total", (("app", APP), ("mmp", "adjust"), ("status", "failed")))
    assert samples[delivered] == 2
    assert samples[failed] == 1
    assert samples[("s2s_attempts_total", (("app", APP), ("mmp", "adjust"), ("outcome", "delivered")))] == 2
    assert samples[("s2s_attempts_total", (("app", APP), ("mmp", "adjust"), ("outcome", "permanent")))] == 1
    assert samples[("s2s_attempt_duration_seconds_count", (("mmp", "adjust"),))] == 3
    assert samples[("s2s_attempt_duration_seconds_bucket", (("le", "+Inf"), ("mmp", "adjust")))] == 3
    assert 0 < samples[("s2s_attempt_duration_seconds_sum", (("mmp", "adjust"),))] < 30
    assert samples[("s2s_queue_depth", (("queue", "sends"),))] == 0
    assert samples[("s2s_oldest_waiting_seconds", ())] == 0

    # Counted from the workers' own work, not from the tables: the rows going does not change them.
    Delivery.objects.all().delete()
    assert scrape(client)[delivered] == 2


def test_retries_scheduled_are_counted_until_the_delivery_dies(client, metrics_token, adjust, settings):
    with LocalServer(answer(500, b'{"error": "Event request failed (Internal error)"}')) as server:
        settings.ADJUST_BASE_URL = server.url
        send(adjust)
        run_worker()  # SEND_BACKOFF is [0, 0, 0]: each retry goes straight back on the queue
    samples = scrape(client)
    assert samples[("s2s_retries_scheduled_total", (("app", APP), ("mmp", "adjust")))] == 3
    assert samples[("s2s_deliveries_total", (("app", APP), ("mmp", "adjust"), ("status", "dead")))] == 1
    assert samples[("s2s_attempts_total", (("app", APP), ("mmp", "adjust"), ("outcome", "retry")))] == 4


def test_queue_depth_and_the_oldest_waiting_delivery_are_read_at_scrape_time(
    client, metrics_token, adjust, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        delivery = send(adjust)
    Delivery.objects.filter(pk=delivery.pk).update(created_at=delivery.created_at.replace(year=2020))
    samples = scrape(client)
    assert samples[("s2s_queue_depth", (("queue", "sends"),))] == 1
    assert samples[("s2s_oldest_waiting_seconds", ())] > 365 * 24 * 3600
    assert samples[("s2s_workers_alive", ())] == 0


def test_with_redis_down_the_scrape_still_answers_and_says_so(client, metrics_token, settings, adjust):
    url = f"redis://127.0.0.1:{free_port()}/0"
    settings.RQ_QUEUES = {name: {**queue, "URL": url} for name, queue in settings.RQ_QUEUES.items()}
    samples = scrape(client)
    assert samples[("s2s_up", (("component", "redis"),))] == 0
    assert samples[("s2s_up", (("component", "database"),))] == 1
    assert not any(name == "s2s_queue_depth" for name, _ in samples)


def test_gauges_plugged_in_by_other_packages_are_rendered(redis_conn, adjust):
    """The hook the monitoring package's open-incident count is wired to at merge."""
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(S2SCollector([ExtraGauge("s2s_apps", "Apps configured.", lambda: App.objects.count())]))
    text = generate_latest(registry).decode()
    assert "# HELP s2s_apps Apps configured." in text
    assert "s2s_apps 1.0" in text


def test_the_open_incidents_are_a_gauge(client, metrics_token, redis_conn, adjust_app):
    from events.monitoring.models import Incident

    assert scrape(client)[("s2s_open_incidents", ())] == 0
    Incident.objects.create(
        rule="auth_refused", subject=f"app:{adjust_app.pk}", app=adjust_app, title="401", detail="401"
    )
    assert scrape(client)[("s2s_open_incidents", ())] == 1
