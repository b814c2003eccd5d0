"""Alerts end to end in a real browser: an admin sets an alert on an app and an email channel, the
emulated Adjust starts refusing the app's security token, a real worker (its maintenance runs the
checks) opens the incident, which appears on the Alerts page and in the email an SMTP server
started here receives; the admin fixes the token and the incident resolves by itself."""

import subprocess
import sys
import time

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from events.engine import create_delivery
from events.models import Source
from tests.alert_receivers import smtp_server, use_smtp
from tests.browser.helpers import LAPTOP, log_in, screenshots
from tests.conftest import ADJUST_SECURITY_TOKEN, IDFA, subprocess_env

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROTATED = "r0tat3dt0k3n1nadjustsdashboard77"


def wait_for(condition, seconds: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Not within {seconds} s: {what}")
        time.sleep(0.3)


def send_purchase(app) -> None:
    """What the app's backend does: one event through the pipeline (the worker sends it)."""
    create_delivery(
        app, app.event_tokens.get(token="f0ob4r"), {"device_ids": {"idfa": IDFA}}, source=Source.API
    )


def test_an_incident_opens_is_mailed_and_resolves_when_the_token_is_fixed(
    live_server, page: Page, admin, adjust, emulator, request, settings
):
    emulator.register_adjust_app(
        adjust.app_key, event_tokens=["f0ob4r"], security_tokens=[ADJUST_SECURITY_TOKEN], auth_enabled=True
    )
    page.set_viewport_size(LAPTOP)
    with smtp_server() as (box, port):
        use_smtp(settings, port)  # the dashboard's test button, in this process
        env = subprocess_env(
            EMAIL_URL=f"smtp://127.0.0.1:{port}",
            SITE_URL=live_server.url,
            # The idle worker's maintenance (which enqueues the checks) every second.
            WORKER_TTL="16",
            WORKER_MAINTENANCE_INTERVAL="1",
            ALERT_CHECK_INTERVAL="2",
        )
        worker = subprocess.Popen(
            [
                sys.executable,
                str(settings.BASE_DIR / "manage.py"),
                "rqworker",
                "sends",
                "default",
                "--with-scheduler",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        try:
            log_in(page, live_server, admin)
            # The email channel, and its test button: the message reaches the SMTP server.
            page.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts").click()
            page.get_by_role("link", name="Channels").click()
            page.get_by_role("link", name="Add a channel").click()
            page.get_by_label("Name").fill("On call")
            page.get_by_label("Kind").select_option("email")
            page.get_by_label("Addresses or URL").fill("oncall@example.com")
            page.get_by_role("button", name="Add the channel").click()
            expect(page.locator(".messages")).to_contain_text("Added the channel 'On call'")
            page.get_by_role("button", name="Send a test").click()
            expect(page.locator(".messages")).to_contain_text("Sent a test message to 'On call'")
            assert box.subjects() == ["[s2sadmin] Test message"]

            # The alert on the app: a refused token at once; the traffic rules it does not need, off.
            page.goto(live_server.url + reverse("app_detail", args=[adjust.pk]))
            page.get_by_role("link", name="Alerts", exact=True).last.click()
            expect(page.locator("h1")).to_have_text(f"Alerts of {adjust.name}")
            page.get_by_label("Watch the success rate").uncheck()
            page.get_by_label("Watch permanent failures in a row").uncheck()
            page.get_by_label("Watch deliveries waiting").uncheck()
            expect(page.get_by_label("Alert at once on 401/403 from the MMP")).to_be_checked()
            screenshots(page, request, "app-alerts")
            page.get_by_role("button", name="Save the alerts").click()
            expect(page.locator(".messages")).to_contain_text(f"Saved the alerts of '{adjust.name}'")

            send_purchase(adjust)
            wait_for(
                lambda: adjust.deliveries.filter(status="delivered").exists(), what="first event delivered"
            )

            # Adjust's dashboard: the token s2sadmin sends is rotated out.
            emulator.add_adjust_security_token(adjust.app_key, ADJUST_SECURITY_TOKEN, active=False)
            emulator.add_adjust_security_token(adjust.app_key, ROTATED)
            send_purchase(adjust)

            title = f"{adjust.name}: the MMP refuses its credentials (HTTP 401)"
            wait_for(lambda: f"[s2sadmin] Incident: {title}" in box.subjects(), what="the incident's email")
            [opened] = [m for m in box.messages if m["Subject"] == f"[s2sadmin] Incident: {title}"]
            assert "oncall@example.com" in opened["To"]
            assert f"{live_server.url}/log/?app={adjust.pk}&http=401" in opened.get_content()

            page.goto(live_server.url + reverse("alerts"))
            open_section = page.locator("#open-incidents")
            expect(open_section).to_contain_text(title)
            screenshots(page, request, "open")
            open_section.get_by_role("link", name="The deliveries behind it").click()
            expect(page.locator("table.log tbody tr")).to_have_count(1)
            expect(page.locator("table.log tbody")).to_contain_text("401")

            # The admin fixes the token: the one now in Adjust's dashboard becomes the active one.
            page.goto(live_server.url + reverse("security_tokens", args=[adjust.pk]))
            page.get_by_label("Label").fill("Adjust dashboard, rotated")
            page.get_by_label("Token", exact=True).fill(ROTATED)
            page.get_by_role("button", name="Rotate: make it the active token").click()
            send_purchase(adjust)

            wait_for(lambda: f"[s2sadmin] Resolved: {title}" in box.subjects(), what="the resolved email")
            page.goto(live_server.url + reverse("alerts"))
            expect(page.locator("#open-incidents")).to_contain_text("No open incident")
            expect(page.locator("#past-incidents")).to_contain_text(title)
            screenshots(page, request, "resolved")
            # One opening and one resolution were told: no storm of repeats.
            assert [s for s in box.subjects() if title in s] == [
                f"[s2sadmin] Incident: {title}",
                f"[s2sadmin] Resolved: {title}",
            ]
        finally:
            worker.terminate()
            worker.wait(10)
