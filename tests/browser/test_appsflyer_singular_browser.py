"""A marketer sends test events to AppsFlyer and Singular in a real browser (Chromium through
Playwright), against a live server, the emulator as both MMPs and a real worker process: reads a
rejection, fixes it and sees the event delivered."""

import pytest
from playwright.sync_api import Page, expect

from events.models import Delivery
from tests.browser.helpers import log_in, screenshots
from tests.browser.test_marketer_browser import FINAL_WITHIN_MS, no_script_errors, open_send_form  # noqa: F401
from tests.conftest import APPSFLYER_ID, APPSFLYER_S2S_TOKEN, SINGULAR_SDID, SINGULAR_SDK_KEY, worker_process

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def appsflyer(emulator, appsflyer_app):
    emulator.register_appsflyer_app(appsflyer_app.bundle_id, "ios", s2s_tokens=[appsflyer_app.app_key])
    return appsflyer_app


@pytest.fixture
def singular(emulator, singular_app):
    emulator.register_singular_key(singular_app.app_key)
    emulator.add_singular_session(singular_app.bundle_id, "Android", SINGULAR_SDID)
    return singular_app


def choose_the_first_event(page: Page) -> None:
    # No event is chosen for the user (issue 12): the marketer picks one.
    page.get_by_label("Event", exact=True).select_option(index=1)


def confirm_production(page: Page) -> None:
    page.get_by_label("Yes, send this to production: it counts as real data.").check()


def test_a_marketer_fixes_an_appsflyer_id_and_sees_the_event_delivered(
    appsflyer, live_server, page: Page, marketer, request
):
    log_in(page, live_server, marketer)
    open_send_form(page, appsflyer)
    choose_the_first_event(page)
    page.get_by_label("appsflyer_id").fill("1415211453000")  # the hyphen and its digits forgotten
    page.get_by_label("Revenue (af_revenue)").fill("4.99")
    page.get_by_label("Currency (ISO 4217)").select_option("USD")
    confirm_production(page)
    page.get_by_role("button", name="Send event").click()
    expect(page.locator(".field.has-error")).to_contain_text("appsflyer_id is 13 digits, a hyphen and digits")
    assert not Delivery.objects.exists()
    screenshots(page, request, "rejected")

    page.get_by_label("appsflyer_id").fill(APPSFLYER_ID)
    preview = page.locator("#preview")
    expect(preview).to_contain_text("/inappevent/id123456789")
    expect(preview).to_contain_text('\\"af_revenue\\":\\"4.99\\"')
    assert APPSFLYER_S2S_TOKEN not in page.content()
    confirm_production(page)
    with worker_process():
        page.get_by_role("button", name="Send event").click()
        expect(page.locator("#status-badge")).to_have_text("Delivered", timeout=FINAL_WITHIN_MS)
    attempt = page.locator("details.attempt").first
    if attempt.get_attribute("open") is None:
        attempt.locator("summary").click()
    expect(attempt).to_contain_text("minimal validation only")
    expect(attempt).to_contain_text("HTTP 200")
    screenshots(page, request)


def test_a_marketer_reads_singulars_refusal_inside_a_200_and_sends_again(
    singular, emulator, live_server, page: Page, marketer, request
):
    emulator.register_singular_key(SINGULAR_SDK_KEY, s2s_enabled=False)  # the account's plan, for now
    log_in(page, live_server, marketer)
    open_send_form(page, singular)
    choose_the_first_event(page)
    page.get_by_label("sdid").fill(SINGULAR_SDID)
    page.get_by_label("IPv4 address").fill("2001:db8::1")
    confirm_production(page)
    page.get_by_role("button", name="Send event").click()
    expect(page.locator(".field.has-error")).to_contain_text("Singular accepts IPv4 addresses only")
    page.get_by_label("IPv4 address").fill("203.0.113.7")
    confirm_production(page)
    with worker_process():
        page.get_by_role("button", name="Send event").click()
        # HTTP 200, and still a failure: the verdict is in the body.
        expect(page.locator("#status-badge")).to_have_text("Failed", timeout=FINAL_WITHIN_MS)
        status = page.locator("#delivery-status")
        expect(status).to_contain_text("invalid account: S2S is not enabled")
        screenshots(page, request, "rejected")
        rejected = Delivery.objects.get()
        assert rejected.last_http_status == 200

        emulator.register_singular_key(SINGULAR_SDK_KEY, s2s_enabled=True)  # the plan fixed
        page.get_by_role("link", name="Clone into the test form").click()
        expect(page.locator(".note")).to_contain_text(f"Cloned from delivery {rejected.pk}")
        expect(page.get_by_label("sdid")).to_have_value(SINGULAR_SDID)
        confirm_production(page)
        page.get_by_role("button", name="Send event").click()
        expect(page.locator("#status-badge")).to_have_text("Delivered", timeout=FINAL_WITHIN_MS)
    assert SINGULAR_SDK_KEY not in page.content()
    screenshots(page, request)
