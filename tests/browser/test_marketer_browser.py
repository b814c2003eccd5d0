"""A marketer's day in a real browser (Debian's Chromium through Playwright): send a test event and
watch it delivered, read why one was rejected and fix it, compare two attempts. Against a live
server, the emulator as both MMPs, and a real worker process with RQ's scheduler."""

import time

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from events.engine import create_delivery
from events.models import Delivery, Source
from tests.browser.helpers import log_in, screenshots
from tests.conftest import ADJUST_APP_TOKEN, ADJUST_SECURITY_TOKEN, IDFA, worker_process

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OTHER_IDFA = "6F9619FF-8B86-4D01-B42D-00CF4FC964FF"
FINAL_WITHIN_MS = 30_000


@pytest.fixture(autouse=True)
def no_script_errors(page: Page):
    """Every page's few lines of JS run without an error."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield
    assert errors == []


def open_send_form(page: Page, app) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Send test event").click()
    page.wait_for_load_state()  # send.js listens for the choice of app from then on
    page.locator("#pick-app").select_option(str(app.pk))  # the page reloads for the app (JS)
    expect(page.locator("#send-form")).to_be_visible()


def test_a_marketer_sends_a_test_event_and_watches_it_become_delivered(
    adjust, live_server, page: Page, marketer, request
):
    log_in(page, live_server, marketer)
    open_send_form(page, adjust)
    page.get_by_label("Event", exact=True).select_option(label="Purchase (f0ob4r)")
    page.get_by_label("Device id 1", exact=True).fill(IDFA)
    page.get_by_label("Callback parameters: key 1").fill("order")
    page.get_by_label("Callback parameters: value 1").fill("42")
    page.get_by_label("Revenue").fill("4.99")
    page.get_by_label("Currency (ISO 4217)").select_option("EUR")
    # The live preview shows the exact request, the token masked, before anything is sent.
    preview = page.locator("#preview")
    expect(preview).to_contain_text("app_token=••••" + ADJUST_APP_TOKEN[-4:])
    expect(preview).to_contain_text("Bearer ••••" + ADJUST_SECURITY_TOKEN[-4:])
    expect(preview).to_contain_text("revenue=4.99")
    assert ADJUST_SECURITY_TOKEN not in page.content()
    screenshots(page, request, "form")

    with worker_process():
        page.get_by_role("button", name="Send event").click()
        expect(page.locator(".messages")).to_contain_text("Queued delivery")
        # The page updates by itself: no reload between queued and delivered.
        expect(page.locator("#status-badge")).to_have_text("Delivered", timeout=FINAL_WITHIN_MS)
    attempt = page.locator("details.attempt").first
    if attempt.get_attribute("open") is None:
        attempt.locator("summary").click()
    expect(attempt).to_contain_text("Adjust recorded the event.")
    expect(attempt.locator("pre.body.json")).to_contain_text('"status": "OK"')
    expect(attempt).to_contain_text("HTTP 200")
    assert Delivery.objects.get().source == Source.FORM
    screenshots(page, request)

    # The request log lists it as test traffic, and its auto-refresh picks up the next one.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Request log").click()
    rows = page.locator("table.log tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".badge.test")).to_be_visible()
    page.get_by_label("Auto-refresh (5 s)").check()
    create_delivery(
        adjust, adjust.event_tokens.get(token="2y7e81"), {"device_ids": {"idfa": IDFA}}, source=Source.CLI
    )
    expect(rows).to_have_count(2, timeout=10_000)


def test_a_marketer_reads_why_an_event_was_rejected_and_fixes_it(
    adjust, emulator, live_server, page: Page, marketer, request
):
    emulator.add_adjust_device(ADJUST_APP_TOKEN, {"idfa": IDFA}, opted_out=True)
    log_in(page, live_server, marketer)
    open_send_form(page, adjust)
    page.get_by_label("Event", exact=True).select_option(label="Purchase (f0ob4r)")
    page.get_by_label("Device id 1", exact=True).fill(IDFA)
    with worker_process():
        page.get_by_role("button", name="Send event").click()
        expect(page.locator("#status-badge")).to_have_text("Failed", timeout=FINAL_WITHIN_MS)
        status = page.locator("#delivery-status")
        expect(status).to_contain_text("Device is opted out")
        expect(status).to_contain_text("This device is opted out at Adjust")
        screenshots(page, request, "rejected")
        rejected = Delivery.objects.get()

        # Fix it: clone into the form, use the device's other advertising id, send again.
        page.get_by_role("link", name="Clone into the test form").click()
        expect(page.locator(".note")).to_contain_text(f"Cloned from delivery {rejected.pk}")
        device_id = page.get_by_label("Device id 1", exact=True)
        expect(device_id).to_have_value(IDFA)
        device_id.fill(OTHER_IDFA)
        expect(page.locator("#preview")).to_contain_text(f"idfa={OTHER_IDFA}")
        page.get_by_role("button", name="Send event").click()
        expect(page.locator("#status-badge")).to_have_text("Delivered", timeout=FINAL_WITHIN_MS)
    fixed = Delivery.objects.exclude(pk=rejected.pk).get()
    assert fixed.device_id == OTHER_IDFA and fixed.source == Source.FORM
    screenshots(page, request)


def test_a_marketer_compares_two_attempts_side_by_side(
    adjust, emulator, live_server, page: Page, marketer, request
):
    emulator.add_adjust_device(ADJUST_APP_TOKEN, {"idfa": IDFA}, opted_out=True)
    token = adjust.event_tokens.get(token="f0ob4r")
    rejected, _ = create_delivery(adjust, token, {"device_ids": {"idfa": IDFA}}, source=Source.FORM)
    delivered, _ = create_delivery(
        adjust,
        token,
        {"device_ids": {"idfa": OTHER_IDFA}, "revenue": "1.99", "currency": "USD"},
        source=Source.FORM,
    )
    with worker_process():
        wait_until_final(rejected, delivered)
    first = rejected.attempts.get()

    log_in(page, live_server, marketer)
    page.goto(live_server.url + reverse("delivery", args=[delivered.pk]))
    page.get_by_label("Second attempt id").fill(str(first.pk))
    page.get_by_role("button", name="Compare", exact=True).click()

    expect(page.get_by_role("heading", name="Compare attempts")).to_be_visible()
    changed = page.locator("tr.changed")
    for label in ("idfa", "revenue", "HTTP status", "MMP message", "Duration"):
        expect(
            changed.filter(has=page.get_by_role("rowheader", name=label, exact=False)).first
        ).to_be_visible()
    expect(page.locator("tr.same").filter(has_text="event_token")).to_have_count(1)
    expect(page.locator("pre.body-diff .removed")).to_contain_text('"status": "OK"')
    expect(page.locator("pre.body-diff .added")).to_contain_text("Device is opted out")
    expect(page.locator(".side-by-side details.attempt")).to_have_count(2)
    screenshots(page, request)


def wait_until_final(*deliveries: Delivery) -> None:
    deadline = time.monotonic() + FINAL_WITHIN_MS / 1000
    while time.monotonic() < deadline:
        for delivery in deliveries:
            delivery.refresh_from_db()
        if all(d.is_final for d in deliveries):
            return
        time.sleep(0.2)
    raise AssertionError(f"Not final in time: {[(d.pk, d.status) for d in deliveries]}")
