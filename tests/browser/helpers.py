"""What every browser test does: log in through the real login page, and keep screenshots."""

from pathlib import Path

from django.conf import settings
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD

SCREENSHOTS = Path(settings.BASE_DIR) / "artifacts" / "screenshots"
LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def log_in(page: Page, live_server, user) -> None:
    page.set_viewport_size(LAPTOP)
    page.goto(live_server.url + reverse("login"))
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".who")).to_have_text(user.username)


def screenshots(page: Page, request, step: str = "") -> None:
    """The page at a laptop's width (<test name>[-<step>].png) and a phone's (...-phone.png)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = request.node.originalname + (f"-{step}" if step else "")
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-phone.png"), full_page=True)
    page.set_viewport_size(LAPTOP)
