"""Admin pages in a real browser (Debian's Chromium through Playwright) against a live server."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.browser.helpers import LAPTOP, log_in, screenshots

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

APP_TOKEN = "k9z2m4x7q1w3"
SECURITY_TOKEN = "s3cr3tv4lu3f0rth3br0ws3rt3st9a7e"


def test_an_admin_adds_an_app_two_event_tokens_and_a_security_token(live_server, page: Page, admin, request):
    page.set_viewport_size(LAPTOP)
    log_in(page, live_server, admin)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Apps").click()
    page.get_by_role("link", name="Add an app").click()

    page.get_by_label("Provider").select_option("tenjin")
    expect(page.locator('label[for="id_app_key"]')).to_contain_text("SDK key")
    page.get_by_label("Provider").select_option("adjust")
    expect(page.locator('label[for="id_app_key"]')).to_contain_text("App token")
    page.get_by_label("Platform").select_option("ios")
    page.get_by_label("Name", exact=True).fill("Browser Shop iOS")
    page.get_by_label("Bundle id").fill("com.example.browsershop")
    page.get_by_label("App token").fill(APP_TOKEN)
    screenshots(page, request, "app-form")
    page.get_by_role("button", name="Add the app").click()
    expect(page.locator(".messages")).to_contain_text("Added the app 'Browser Shop iOS'")

    for name, token in [("Purchase", "pur123"), ("Signup", "sgn456")]:
        page.get_by_label("Name", exact=True).fill(name)
        page.get_by_label("Token", exact=True).fill(token)
        page.get_by_role("button", name="Add", exact=True).click()
        expect(page.locator(".messages")).to_contain_text(f"Added the event '{name}' ({token})")
    expect(page.locator("#event-tokens tbody tr")).to_have_count(2)

    page.get_by_role("link", name="Manage security tokens").click()
    page.get_by_label("Label").fill("Adjust dashboard")
    page.get_by_label("Token", exact=True).fill(SECURITY_TOKEN)
    page.get_by_role("button", name="Add and make active").click()
    expect(page.locator(".messages")).to_contain_text("it is active")
    expect(page.locator("tbody")).to_contain_text("••••9a7e")
    assert SECURITY_TOKEN not in page.content() and APP_TOKEN not in page.content()
    screenshots(page, request, "security-tokens")

    page.get_by_role("link", name="Browser Shop iOS").click()
    expect(page.locator("#security-tokens")).to_contain_text("••••9a7e")
    expect(page.locator("dl.facts")).to_contain_text("••••q1w3")
    assert SECURITY_TOKEN not in page.content() and APP_TOKEN not in page.content()
    screenshots(page, request)
    page.goto(live_server.url + reverse("audit"))
    assert SECURITY_TOKEN not in page.content() and APP_TOKEN not in page.content()
    screenshots(page, request, "audit")


def test_a_viewer_cannot_open_the_token_pages_or_send(live_server, page: Page, viewer, adjust_app, request):
    page.set_viewport_size(LAPTOP)
    log_in(page, live_server, viewer)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Overview")).to_be_visible()
    expect(nav.get_by_role("link", name="Apps")).to_have_count(0)
    expect(nav.get_by_role("link", name="Send test event")).to_have_count(0)
    screenshots(page, request, "nav")
    for url in [
        reverse("security_tokens", args=[adjust_app.pk]),
        reverse("app_detail", args=[adjust_app.pk]),
        reverse("event_token_import", args=[adjust_app.pk]),
        reverse("event_token_export", args=[adjust_app.pk]),
        reverse("apps"),
    ]:
        response = page.goto(live_server.url + url)
        assert response.status == 403, url
    assert "f0ob4r" not in page.content()
    screenshots(page, request)
