"""The overview in a real browser (Debian's Chromium through Playwright): the chart drawn on its
axis without script, the range picker, and a figure and a bar that open exactly their deliveries in
the log; screenshots at a laptop's and a phone's width."""

import random
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from events.models import Delivery, Source, Status
from events.reporting import rollups
from tests.browser.helpers import log_in, screenshots
from tests.conftest import IDFA

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REASONS = ["Device not found", "Invalid event token", "App token is missing"]


def a_week_of_sends(apps) -> None:
    """A few hundred deliveries over seven days, finished as the engine records them."""
    rng = random.Random(13)
    now = timezone.now()
    for _ in range(400):
        app = rng.choice(apps)
        status = rng.choices([Status.DELIVERED, Status.FAILED, Status.DEAD], [90, 7, 3])[0]
        reason = "" if status == Status.DELIVERED else rng.choice(REASONS)
        ms = rng.lognormvariate(4.6, 0.5)
        delivery = Delivery.objects.create(
            app=app, event_token=app.event_tokens.first(), source=rng.choice([Source.API, Source.BULK]),
            environment="production", device_id_type="idfa", device_id=IDFA, status=status,
            last_duration_ms=ms, last_message=reason, created_at=now - timedelta(hours=rng.uniform(0, 24 * 7)),
        )  # fmt: skip
        rollups.record_attempts([rollups.step(delivery, status, reason=reason, duration_ms=ms)])


def test_the_overview_leads_to_the_log(live_server, page: Page, viewer, adjust_app, tenjin_app, request):
    a_week_of_sends([adjust_app, adjust_app, tenjin_app])
    refused: list[str] = []  # what the Content-Security-Policy blocks is logged to the console
    page.on(
        "console",
        lambda message: refused.append(message.text) if "Content Security" in message.text else None,
    )
    page.on("pageerror", lambda error: refused.append(str(error)))
    log_in(page, live_server, viewer)
    page.goto(live_server.url + "/?range=7d")
    expect(page.locator("#range-title")).to_have_text("Last 7 days")
    expect(page.locator("figure.chart g.bar")).to_have_count(29)
    expect(page.locator("figure.chart text.axis").first).to_have_text("0")
    screenshots(page, request)

    sends = page.locator('[data-figure="failed"]').inner_text()
    page.locator('[data-figure="failed"]').click()
    page.wait_for_url("**/log/?*status=unsuccessful*")
    rows = page.locator('table.log tbody tr a[href^="/deliveries/"]')
    expect(rows).to_have_count(min(int(sends), 50))

    page.goto(live_server.url + "/?range=24h")
    page.get_by_label("Range").select_option("30d")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#range-title")).to_have_text("Last 30 days")
    assert refused == []  # no Content-Security-Policy refusal, no script error
