"""At a phone's width (a real browser): the request log's rows keep their labels."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page

from events.models import Delivery, Source
from tests.browser.helpers import PHONE, log_in, screenshots
from tests.conftest import queue_adjust_event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_log_rows_keep_their_labels_at_phone_width(
    live_server, page: Page, viewer, adjust_app, redis_conn, request
):
    delivery = queue_adjust_event(adjust_app, source=Source.CLI)
    Delivery.objects.filter(pk=delivery.pk).update(last_http_status=200, attempt_count=1, last_duration_ms=49)
    log_in(page, live_server, viewer)
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + reverse("log"))
    labels = page.eval_on_selector_all(
        "table.log tbody tr:first-child td.num",
        "cells => cells.map(cell => getComputedStyle(cell, '::before').content)",
    )
    assert labels == ['"HTTP "', '"· tries "', '"· latency "']
    screenshots(page, request)


def test_the_overview_caption_and_the_bulk_templates_fit_a_phone(
    live_server, page: Page, marketer, adjust_app, tenjin_app, redis_conn, request
):
    log_in(page, live_server, marketer)
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + reverse("overview"))
    # The caption (the legend, then what a bar is) wraps within the chart's width on a phone:
    # nothing runs past its edge or into the next line's text.
    overflow = page.eval_on_selector_all(
        "figure.chart figcaption", "captions => captions.map(c => c.scrollWidth - c.clientWidth)"
    )
    assert overflow and all(extra <= 0 for extra in overflow)
    screenshots(page, request, "overview")

    page.set_viewport_size(PHONE)  # screenshots() leaves the laptop's width
    page.goto(live_server.url + reverse("bulk"))
    # The templates table fits: nothing to scroll sideways, nothing clipped.
    clipped = page.eval_on_selector(
        "#templates-title ~ .table-wrap", "wrap => wrap.scrollWidth - wrap.clientWidth"
    )
    assert clipped <= 0
    screenshots(page, request, "bulk")
