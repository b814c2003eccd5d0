"""Accounts in a real browser (Debian's Chromium through Playwright): a marketer changes their own
password from the top bar and is told plainly that Django's admin is not for their role; five
wrong passwords show the lockout with when to try again."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.browser.helpers import LAPTOP, log_in, screenshots

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "a-longer-and-new-passphrase-42"


def test_a_marketer_changes_their_password_and_meets_the_admin_door(
    live_server, page: Page, marketer, request
):
    log_in(page, live_server, marketer)
    page.get_by_role("link", name="Password").click()
    page.get_by_label("Old password").fill("correct-horse-battery-staple")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    screenshots(page, request, "form")
    page.get_by_role("button", name="Change the password").click()
    expect(page.locator(".messages")).to_contain_text("Your password is changed.")
    marketer.refresh_from_db()
    assert marketer.check_password(NEW_PASSWORD)

    page.goto(live_server.url + "/admin/")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Django's admin is for admins only")
    screenshots(page, request, "admin-door")


def test_five_wrong_passwords_show_the_lockout(live_server, page: Page, viewer, request):
    page.set_viewport_size(LAPTOP)
    page.goto(live_server.url + reverse("login"))
    for _ in range(5):
        page.get_by_label("Username").fill(viewer.username)
        page.get_by_label("Password").fill("wrong")
        page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Try again in 15 minutes")
    screenshots(page, request)


def test_the_login_page_and_the_overview_log_no_console_error(live_server, page: Page, viewer):
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    log_in(page, live_server, viewer)  # the login page, then the overview
    page.reload()
    assert errors == []
    assert page.locator('link[rel="icon"]').get_attribute("href").endswith(".svg")


def test_the_browsers_time_zone_is_offered_once(live_server, browser, viewer, request):
    from events.accounts.models import Preferences

    context = browser.new_context(timezone_id="Asia/Tokyo")
    page = context.new_page()
    try:
        log_in(page, live_server, viewer)
        ask = page.locator("#time-zone-ask")
        expect(ask).to_contain_text("Times are shown in UTC.")
        screenshots(page, request, "asked")
        ask.get_by_role("button", name="Use Asia/Tokyo").click()
        expect(page.locator(".messages")).to_contain_text("Times are now shown in Asia/Tokyo.")
        expect(page.locator("#time-zone-ask")).to_have_count(0)
        assert Preferences.objects.get(user=viewer).time_zone == "Asia/Tokyo"
    finally:
        context.close()
