"""The overview: sends, success rate, latency percentiles, failure reasons and sends over time for
24 hours and 7 days, overall and per app; test traffic left out on request; the queue's health,
and a page that still renders when Redis is down."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from events import stats
from events.engine import send_queue
from events.models import Delivery, Source, Status
from tests.conftest import IDFA

pytestmark = pytest.mark.django_db


def make(app, *, status=Status.DELIVERED, ms=None, hours_ago=1.0, source=Source.API, message=""):
    return Delivery.objects.create(
        app=app, event_token=app.event_tokens.first(), source=source, environment="sandbox",
        device_id_type="idfa", device_id=IDFA, status=status, last_duration_ms=ms, last_message=message,
        created_at=timezone.now() - timedelta(hours=hours_ago),
    )  # fmt: skip


@pytest.fixture
def known(adjust_app, tenjin_app):
    for ms in (100, 200, 300, 400):
        make(adjust_app, ms=ms)
    make(adjust_app, status=Status.FAILED, ms=50, message="Device not found")
    make(adjust_app, status=Status.DEAD, ms=60, message="Service unavailable", hours_ago=2)
    queued = make(adjust_app, status=Status.QUEUED, hours_ago=3)
    make(adjust_app, ms=1000, source=Source.FORM)  # test traffic
    make(tenjin_app, ms=10, hours_ago=48)  # in the 7 days only
    make(tenjin_app, ms=10, hours_ago=24 * 8)  # in neither
    return {"queued": queued}


def figure(page: str, window: str, name: str) -> str:
    section = page[page.index(f'id="window-{window}"') :]
    return re.search(rf'data-figure="{name}">([^<]*)<', section)[1]


@pytest.fixture
def reader(client_for, viewer):
    return client_for(viewer)


def test_anonymous_visitors_log_in_and_outsiders_are_refused(client, client_for, outsider):
    assert client.get(reverse("overview")).status_code == 302
    assert client_for(outsider).get(reverse("overview")).status_code == 403


def test_the_overview_only_answers_get(reader):
    assert reader.post(reverse("overview")).status_code == 405


def test_percentiles_are_nearest_rank():
    assert stats.percentile([], 50) is None
    assert stats.percentile([7], 95) == 7
    values = [50, 60, 100, 200, 300, 400, 1000]
    assert stats.percentile(values, 50) == 200
    assert stats.percentile(values, 95) == 1000
    assert stats.percentile(list(range(1, 101)), 95) == 95
    assert stats.percentile(list(range(1, 101)), 50) == 50


def test_figures_for_a_known_set_of_deliveries(reader, known, adjust_app, tenjin_app):
    page = reader.get(reverse("overview")).content.decode()
    # 24 hours: 8 sends, 5 delivered of 7 finished, latencies 50 60 100 200 300 400 1000 ms.
    assert figure(page, "24h", "sends") == "8"
    assert figure(page, "24h", "success") == "71.4%"
    assert figure(page, "24h", "p50") == "200 ms"
    assert figure(page, "24h", "p95") == "1000 ms"
    # 7 days adds the Tenjin delivery of two days ago.
    assert figure(page, "7d", "sends") == "9"
    assert figure(page, "7d", "success") == "75.0%"
    assert figure(page, "7d", "p50") == "100 ms"
    # Top failure reasons and the per-app table.
    assert "<q>Device not found</q>" in page and "<q>Service unavailable</q>" in page
    assert f'<tr data-app="{adjust_app.pk}">' in page
    day = page[page.index('id="window-24h"') : page.index('id="window-7d"')]
    assert f'<tr data-app="{tenjin_app.pk}">' not in day
    assert f'<tr data-app="{tenjin_app.pk}">' in page[page.index('id="window-7d"') :]


def test_figures_per_app(known, adjust_app, tenjin_app):
    now = timezone.now()
    overall, by_app = stats.window_figures(stats.deliveries_in(stats.WINDOWS[1], now, include_tests=True))
    figures = dict(by_app)
    assert [app for app, _ in by_app] == [adjust_app, tenjin_app]  # busiest first
    assert (figures[adjust_app].sends, figures[adjust_app].delivered, figures[adjust_app].failed) == (8, 5, 2)
    assert figures[adjust_app].in_flight == 1
    assert figures[tenjin_app].success_rate == 100.0 and figures[tenjin_app].p95 == 10
    assert figures[adjust_app].reasons == [("Device not found", 1), ("Service unavailable", 1)]
    assert overall.sends == 9


def test_test_traffic_can_be_left_out(reader, known):
    page = reader.get(f"{reverse('overview')}?tests=exclude").content.decode()
    assert figure(page, "24h", "sends") == "7"
    assert figure(page, "24h", "success") == "66.7%"
    assert figure(page, "24h", "p50") == "100 ms"
    assert figure(page, "24h", "p95") == "400 ms"
    assert 'name="tests" value="exclude" checked' in page


def test_sends_over_time_are_drawn_as_bars(reader, known):
    now = timezone.now()
    window = stats.WINDOWS[0]
    buckets = stats.sends_over_time(stats.deliveries_in(window, now, include_tests=True), window, now)
    assert len(buckets) == 25  # the partial hour 24 hours ago, and the current one
    assert sum(b.total for b in buckets) == 8
    assert sum(b.failed for b in buckets) == 2 and sum(b.other for b in buckets) == 1
    page = reader.get(reverse("overview")).content.decode()
    assert page.count('class="bar-delivered"') >= 2 and 'class="bar-failed"' in page
    assert "<svg" in page and "sent, " in page


def test_queue_depth_workers_and_the_oldest_waiting_delivery(reader, known, redis_conn):
    send_queue().enqueue("events.engine.jobs.send_deliveries", [known["queued"].pk])
    send_queue().enqueue("events.engine.jobs.send_deliveries", [known["queued"].pk])
    page = reader.get(reverse("overview")).content.decode()
    assert re.search(r"Waiting in the send queue</dt><dd class=\"big\">2<", page)
    assert re.search(r"Workers alive</dt><dd class=\"big bad\">0<", page)
    assert (
        f'<a href="{reverse("delivery", args=[known["queued"].pk])}">delivery {known["queued"].pk}</a>'
        in page
    )


def test_the_page_renders_when_redis_is_down(reader, known, settings):
    down = {"URL": "redis://127.0.0.1:1/0"}
    settings.RQ_QUEUES = {"default": down, settings.SEND_QUEUE: down}
    response = reader.get(reverse("overview"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Redis is unreachable" in page
    assert figure(page, "24h", "sends") == "8"
