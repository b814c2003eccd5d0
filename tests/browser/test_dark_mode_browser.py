"""Dark mode follows the system setting (prefers-color-scheme), in a real browser: the main pages
in dark at laptop and phone widths, screenshots kept for a person to look at."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page

from events.models import Source
from tests.browser.helpers import log_in, screenshots
from tests.conftest import queue_adjust_event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DARK_GROUND = "rgb(13, 17, 23)"
LIGHT_GROUND = "rgb(246, 247, 249)"


def ground(page: Page) -> str:
    return page.evaluate("getComputedStyle(document.body).backgroundColor")


def test_the_pages_follow_a_dark_system_setting(
    live_server, page: Page, admin, adjust_app, redis_conn, request
):
    delivery = queue_adjust_event(adjust_app, source=Source.FORM)
    log_in(page, live_server, admin)
    assert ground(page) == LIGHT_GROUND
    page.emulate_media(color_scheme="dark")
    pages = {
        "overview": reverse("overview"),
        "send": f"{reverse('send')}?app={adjust_app.pk}",
        "log": reverse("log"),
        "delivery": reverse("delivery", args=[delivery.pk]),
        "app": reverse("app_detail", args=[adjust_app.pk]),
    }
    for step, url in pages.items():
        page.goto(live_server.url + url)
        assert ground(page) == DARK_GROUND, step
        screenshots(page, request, step)
