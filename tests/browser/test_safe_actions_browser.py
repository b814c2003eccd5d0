"""Actions that cannot hurt by accident, in a real browser (Debian's Chromium through Playwright):
Enter in the test form previews and sends nothing, no event is chosen for the user, a production
resend asks for the box to be ticked, a retrying delivery offers 'retry now', and deactivating an
app says what will stop before it does."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from events.engine import create_delivery
from events.models import Delivery, Source, Status
from tests.browser.helpers import log_in, screenshots
from tests.conftest import IDFA

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def no_script_errors(page: Page):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield
    assert errors == []


def delivery_in(app, status: str, environment: str = "sandbox") -> Delivery:
    fields = {"device_ids": {"idfa": IDFA}, "environment": environment}
    delivery, _ = create_delivery(app, app.event_tokens.get(token="f0ob4r"), fields, source=Source.FORM)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=status, attempt_count=1, next_attempt_at=timezone.now() + timedelta(hours=1)
    )
    return delivery


def test_enter_in_the_test_form_previews_and_never_sends(
    live_server, page: Page, marketer, adjust_app, redis_conn, request
):
    log_in(page, live_server, marketer)
    page.goto(f"{live_server.url}{reverse('send')}?app={adjust_app.pk}")
    event = page.get_by_label("Event", exact=True)
    expect(event).to_have_value("")  # nothing chosen for the user
    device = page.get_by_label("Device id 1", exact=True)
    device.fill(IDFA)
    device.press("Enter")
    expect(page.locator("#preview")).to_contain_text("Choose the event to send.")
    event.select_option(label="Purchase (f0ob4r)")
    page.get_by_label("Device id 1", exact=True).press("Enter")
    expect(page.locator("#preview")).to_contain_text("event_token=f0ob4r")
    assert Delivery.objects.count() == 0
    screenshots(page, request)


def test_a_production_resend_asks_for_the_box_to_be_ticked(
    live_server, page: Page, marketer, adjust_app, redis_conn, request
):
    delivery = delivery_in(adjust_app, Status.DELIVERED, environment="production")
    log_in(page, live_server, marketer)
    page.goto(live_server.url + reverse("delivery", args=[delivery.pk]))
    page.get_by_text("Resend now…").click()
    confirm = page.locator("#resend-confirm")
    expect(confirm).to_contain_text("counts in reports a second time")
    screenshots(page, request, "asked")
    confirm.get_by_role("button", name="Resend to production").click()
    assert Delivery.objects.count() == 1  # the browser asks for the box first
    confirm.get_by_label("Yes, send this to production again").check()
    confirm.get_by_role("button", name="Resend to production").click()
    expect(page.locator(".messages")).to_contain_text(f"Resent delivery {delivery.pk} as delivery")
    assert Delivery.objects.filter(resent_from=delivery, environment="production").count() == 1


def test_a_retrying_delivery_offers_retry_now_and_no_copy(
    live_server, page: Page, marketer, adjust_app, redis_conn, request
):
    delivery = delivery_in(adjust_app, Status.RETRYING)
    log_in(page, live_server, marketer)
    page.goto(live_server.url + reverse("delivery", args=[delivery.pk]))
    expect(page.get_by_role("button", name="Resend now")).to_have_count(0)
    page.get_by_role("button", name="Retry now").click()
    expect(page.locator(".messages")).to_contain_text(f"Delivery {delivery.pk} is being retried now.")
    delivery.refresh_from_db()
    assert delivery.next_attempt_at <= timezone.now() and Delivery.objects.count() == 1
    screenshots(page, request)


def test_deactivating_an_app_says_what_stops_first(live_server, page: Page, admin, adjust_app, request):
    log_in(page, live_server, admin)
    page.goto(live_server.url + reverse("app_detail", args=[adjust_app.pk]))
    page.get_by_text("Deactivate…").click()
    expect(page.locator("details.confirm[open]")).to_contain_text(
        "its queued and retrying events stop unsent"
    )
    screenshots(page, request, "asked")
    page.get_by_role("button", name="Deactivate Demo Adjust iOS").click()
    expect(page.locator(".messages")).to_contain_text("Deactivated 'Demo Adjust iOS'")
    adjust_app.refresh_from_db()
    assert not adjust_app.active
