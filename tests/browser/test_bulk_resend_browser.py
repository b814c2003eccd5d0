"""A bulk resend in a real browser (Debian's Chromium through Playwright): a marketer ticks
deliveries in the request log, reads the preview (one would be refused by Adjust's order rule,
and why; production counted), confirms with the production tick, and watches the progress reach
the end. Against a live server, the emulator as the MMP, and a real worker process for the send
queue and the job queue."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from events.engine import create_delivery
from events.models import Delivery, Environment, Source, Status
from events.resend.models import BulkResend
from tests.browser.helpers import log_in, screenshots
from tests.browser.test_bulk_browser import worker_for_both_queues
from tests.conftest import IDFA, run_worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
OTHER_IDFA = "9A3CB124-5A79-4334-8802-F75FEC099C58"


@pytest.fixture(autouse=True)
def no_script_errors(page: Page):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield
    assert errors == []


def sent(app, *, idfa: str, minutes_ago: int, environment=Environment.PRODUCTION) -> Delivery:
    created_at = str(int((timezone.now() - timedelta(minutes=minutes_ago)).timestamp()))
    fields = {"device_ids": {"idfa": idfa}, "created_at": created_at, "environment": environment}
    delivery, _ = create_delivery(app, app.event_tokens.get(token="f0ob4r"), fields, source=Source.API)
    return delivery


def test_a_marketer_resends_ticked_deliveries_after_a_preview_and_watches_them_finish(
    adjust, live_server, page: Page, marketer, tmp_path, request
):
    older = sent(adjust, idfa=IDFA, minutes_ago=30)  # Adjust accepted a newer one since: refused
    newer = sent(adjust, idfa=IDFA, minutes_ago=20)
    sandbox = sent(adjust, idfa=OTHER_IDFA, minutes_ago=10, environment=Environment.SANDBOX)
    run_worker()
    assert set(Delivery.objects.values_list("status", flat=True)) == {Status.DELIVERED}

    with worker_for_both_queues(tmp_path):
        log_in(page, live_server, marketer)
        page.goto(live_server.url + reverse("log"))
        for delivery in (older, newer, sandbox):
            page.get_by_label(f"Choose delivery {delivery.pk} to resend").check()
        screenshots(page, request, "ticked")
        page.get_by_role("button", name="Resend the ticked…").click()

        preview = page.locator("#resend-preview")
        expect(preview.get_by_role("heading", name="Before anything is sent")).to_be_visible()
        expect(page.locator("#count-resend")).to_have_text("2")
        expect(page.locator("#count-production")).to_have_text("1")
        expect(page.locator("#count-sandbox")).to_have_text("1")
        expect(page.locator("#count-refused")).to_have_text("1")
        expect(preview).to_contain_text("Out of order")
        expect(preview).to_contain_text("Adjust takes each device's events per event token in time order")
        expect(preview).to_contain_text(re.compile(r"Adjust: 2 events \(1 production\)"))
        assert Delivery.objects.count() == 3  # nothing sent before the confirmation
        screenshots(page, request, "preview")

        page.get_by_text("Resend 2 deliveries…").click()
        confirm = page.get_by_role("button", name="Resend, production included")
        expect(confirm).to_be_visible()
        confirm.click()  # the box is required: the browser refuses the form without it
        assert BulkResend.objects.get().state == BulkResend.State.PREVIEWED
        page.get_by_label("Yes, send these to production again: they count as real data.").check()
        confirm.click()

        bar = page.get_by_role("progressbar", name="Resends finished")
        expect(bar).to_be_visible()
        expect(page.locator("#bulk-progress h2")).to_have_text("Finished", timeout=60_000)
        expect(bar).to_have_attribute("aria-valuenow", "100")
        counts = page.locator("#resend-counts")
        expect(counts).to_contain_text(re.compile(r"Queued\s*2"))
        expect(counts).to_contain_text(re.compile(r"Refused\s*1"))
        expect(counts).to_contain_text(re.compile(r"Delivered\s*2"))
        screenshots(page, request, "done")

    copies = Delivery.objects.filter(resent_from__isnull=False)
    assert sorted(copies.values_list("resent_from", flat=True)) == [newer.pk, sandbox.pk]
    assert set(copies.values_list("status", flat=True)) == {Status.DELIVERED}
