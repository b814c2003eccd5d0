"""The overview: sends, success rate, latency percentiles, failure reasons and sends over time for
a range (last hour to 30 days, or custom), overall, per MMP and per app, read from the hourly
rollups; every figure a link to the log rows it counts; test traffic left out on request; the
queue's health, and a page that still renders when Redis is down.

The deliveries here are made the way the engine finishes them: a row, and its step recorded in the
rollups (tests/test_rollups.py checks the engine against a recount)."""

import re
from datetime import timedelta

import pytest
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from events.engine import send_queue
from events.forms.log import LogFilterForm
from events.log import query as log_query
from events.models import FINAL_STATUSES, Delivery, Source, Status
from events.reporting import figures, rollups
from tests.conftest import IDFA

pytestmark = pytest.mark.django_db


def make(app, *, status=Status.DELIVERED, ms=None, hours_ago=1.0, source=Source.API, message=""):
    delivery = Delivery.objects.create(
        app=app, event_token=app.event_tokens.first(), source=source, environment="sandbox",
        device_id_type="idfa", device_id=IDFA, status=status, last_duration_ms=ms, last_message=message,
        created_at=timezone.now() - timedelta(hours=hours_ago),
    )  # fmt: skip
    if status in FINAL_STATUSES:
        step = rollups.step(delivery, status, reason=message, sent=ms is not None, duration_ms=ms)
        rollups.record_attempts([step])
    return delivery


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


def figure(page: str, name: str) -> str:
    return re.search(rf'data-figure="{name}"[^>]*>([^<]*)<', page)[1].strip()


def overview(reader, query: str = "range=24h") -> str:
    return reader.get(f"{reverse('overview')}?{query}").content.decode()


@pytest.fixture
def reader(client_for, viewer):
    return client_for(viewer)


def test_anonymous_visitors_log_in_and_outsiders_are_refused(client, client_for, outsider):
    assert client.get(reverse("overview")).status_code == 302
    assert client_for(outsider).get(reverse("overview")).status_code == 403


def test_the_overview_only_answers_get(reader):
    assert reader.post(reverse("overview")).status_code == 405


def test_percentiles_are_nearest_rank_read_as_their_buckets_upper_bound():
    def histogram(values):
        counts = [0] * (len(rollups.BOUNDS) + 1)
        for value in values:
            counts[rollups.bucket_of(value)] += 1
        return counts

    assert figures.percentile(histogram([]), 50) is None
    assert figures.percentile(histogram([7]), 95) == 8  # the bucket (6, 8]
    values = [50, 60, 100, 200, 300, 400, 1000]
    assert figures.percentile(histogram(values), 50) == 200
    assert figures.percentile(histogram(values), 95) == 1000
    assert figures.percentile(histogram(range(1, 101)), 95) == 100  # 95 is in (80, 100]
    assert figures.percentile(histogram(range(1, 101)), 50) == 50
    assert figures.percentile(histogram([10**6]), 50) == float("inf")


def test_figures_for_a_known_set_of_deliveries(reader, known, adjust_app, tenjin_app):
    page = overview(reader, "range=24h")
    # 24 hours: 8 sends, 5 delivered of 7 finished, latencies 50 60 100 200 300 400 1000 ms.
    assert figure(page, "sends") == "8"
    assert figure(page, "success") == "71.4%"
    assert figure(page, "p50") == "200 ms"
    assert figure(page, "p95") == "1000 ms"
    assert figure(page, "in_flight") == "1"
    assert "<q>Device not found</q>" in page and "<q>Service unavailable</q>" in page
    assert f'<tr data-app="{adjust_app.pk}">' in page
    assert f'<tr data-app="{tenjin_app.pk}">' not in page
    # 7 days adds the Tenjin delivery of two days ago.
    week = overview(reader, "range=7d")
    assert figure(week, "sends") == "9"
    assert figure(week, "success") == "75.0%"
    assert figure(week, "p50") == "100 ms"
    assert f'<tr data-app="{tenjin_app.pk}">' in week and '<tr data-mmp="tenjin">' in week


def test_figures_per_app_and_per_mmp(known, adjust_app, tenjin_app):
    report = figures.report(figures.preset("7d", timezone.now()))
    per_app = dict(report.by_app)
    assert [app for app, _ in report.by_app] == [adjust_app, tenjin_app]  # busiest first
    adjust = per_app[adjust_app]
    assert (adjust.sends, adjust.delivered, adjust.failed, adjust.in_flight) == (8, 5, 2, 1)
    assert per_app[tenjin_app].success_rate == 100.0 and per_app[tenjin_app].p95 == 10
    assert adjust.top_reasons() == [("Device not found", 1), ("Service unavailable", 1)]
    assert report.overall.sends == 9
    assert [(provider, f.sends) for provider, _, f in report.by_mmp] == [("adjust", 8), ("tenjin", 1)]


def test_every_figure_links_to_the_log_rows_it_counts(reader, known, adjust_app):
    """Each link of the page, opened in the log, lists as many deliveries as the figure says."""
    report = figures.report(figures.preset("7d", timezone.now()))
    checks = [(report.overall.links["all"], report.overall.sends)]
    checks.append((report.overall.links["unsuccessful"], report.overall.failed))
    checks.append((report.overall.links["delivered"], report.overall.delivered))
    checks.append((report.overall.links["in_flight"], report.overall.in_flight))
    for _, figures_of_app in report.by_app:
        checks.append((figures_of_app.links["all"], figures_of_app.sends))
    for _, _, figures_of_mmp in report.by_mmp:
        checks.append((figures_of_mmp.links["all"], figures_of_mmp.sends))
    for _reason, n, url in report.overall.reason_links():
        checks.append((url, n))
    for bar in report.bars:
        checks.append((figures.log_url(bar.figures.filters), bar.figures.sends))
    for url, expected in checks:
        query = QueryDict(url.split("?", 1)[1])
        form = LogFilterForm(query)
        assert form.is_valid(), (url, form.errors)
        assert log_query.filtered(form.filters()).count() == expected, url
    page = overview(reader, "range=7d")
    assert page.count('href="/log/?') >= len(checks) - len(report.bars)


def test_test_traffic_can_be_left_out(reader, known):
    page = overview(reader, "range=24h&tests=exclude")
    assert figure(page, "sends") == "7"
    assert figure(page, "success") == "66.7%"
    assert figure(page, "p50") == "100 ms"
    assert figure(page, "p95") == "400 ms"
    assert "tests=exclude" in re.search(r'data-figure="sends" href="([^"]*)"', page)[1]


@pytest.mark.parametrize(
    ("query", "bars"), [("range=1h", 2), ("range=24h", 25), ("range=7d", 29), ("range=30d", 31)]
)
def test_each_range_draws_its_bars_on_a_y_axis(reader, known, query, bars):
    page = overview(reader, query)
    assert page.count('<g class="bar">') == bars
    assert page.count('class="grid"') == 5 and 'class="axis"' in page


def test_the_chart_stacks_delivered_failed_and_unfinished(known):
    report = figures.report(figures.preset("24h", timezone.now()))
    assert len(report.bars) == 25  # the partial hour 24 hours ago, and the current one
    assert sum(b.figures.sends for b in report.bars) == 8
    assert sum(b.figures.failed for b in report.bars) == 2
    assert sum(b.figures.in_flight for b in report.bars) == 1


def test_a_custom_range_counts_whole_hours(reader, known):
    now = timezone.now()
    since = (now - timedelta(hours=50)).strftime("%Y-%m-%dT%H:%M")
    until = (now - timedelta(hours=40)).strftime("%Y-%m-%dT%H:%M")
    page = overview(reader, f"range=custom&since={since}&until={until}")
    assert figure(page, "sends") == "1"  # the Tenjin delivery of 48 hours ago


def test_a_custom_range_without_its_ends_says_so(reader, known):
    page = overview(reader, "range=custom")
    assert "A custom range needs both a start and an end." in page


def test_the_overview_of_one_mmp_or_app(reader, known, tenjin_app):
    assert figure(overview(reader, "range=7d&mmp=tenjin"), "sends") == "1"
    assert figure(overview(reader, f"range=7d&app={tenjin_app.pk}"), "sends") == "1"


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
    assert figure(page, "sends") == "8"


def test_the_oldest_waiting_delivery_is_read_from_the_status_index(known, adjust_app):
    """Whatever the table's size: the first entry of the (status, time) index for each status."""
    from django.db import connection

    from events.models import Delivery
    from events.reporting import queue

    later = make(adjust_app, status=Status.RETRYING, hours_ago=0.5)
    assert queue.oldest_waiting() == known["queued"]
    known["queued"].delete()
    assert queue.oldest_waiting() == later
    if connection.vendor == "postgresql":  # a tiny table: told to avoid the scan a big one would
        with connection.cursor() as c:
            c.execute("SET LOCAL enable_seqscan = off")
            c.execute("SET LOCAL enable_sort = off")  # as on a big table: the index gives the order
        plan = Delivery.objects.filter(status=Status.QUEUED).order_by("created_at")[:1].explain()
        assert "delivery_status_time" in plan and "Sort" not in plan, plan


def test_the_range_picker_shows_the_24_hours_the_page_shows_when_the_url_names_none(client_for, viewer):
    page = client_for(viewer).get(reverse("overview")).content.decode()
    assert '<option value="24h" selected>' in page
