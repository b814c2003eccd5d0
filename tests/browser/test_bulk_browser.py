"""A bulk send in a real browser (Debian's Chromium through Playwright): a marketer uploads a CSV
with a few bad rows, reads the report, sends the valid rows, watches the progress bar reach the end
and downloads the results. Against a live server, the emulator as the MMP, and a real worker process
for both queues ("default" runs the bulk jobs, "sends" the deliveries)."""

import csv
import io
import re
import subprocess
import sys
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import Page, expect

from events.models import BulkSend, Delivery, Status
from tests.browser.helpers import log_in, screenshots
from tests.conftest import ADJUST_APP_TOKEN, ADJUST_SECURITY_TOKEN, IDFA, subprocess_env

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VALID_ROWS = 40
FINISHED_WITHIN_MS = 90_000


@pytest.fixture
def adjust(emulator, adjust_app, adjust_security_token):
    emulator.register_adjust_app(
        ADJUST_APP_TOKEN, event_tokens=["f0ob4r", "2y7e81"], security_tokens=[ADJUST_SECURITY_TOKEN]
    )
    adjust_app.event_tokens.create(name="Refund", token="r3fund")  # unknown to the MMP: it says so
    return adjust_app


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@contextmanager
def worker_for_both_queues(media_root):
    """A real worker with RQ's scheduler on the send queue and the bulk jobs' queue."""
    worker = subprocess.Popen(
        [
            sys.executable, str(settings.BASE_DIR / "manage.py"), "rqworker", "sends", "default",
            "--with-scheduler",
        ],
        env=subprocess_env(MEDIA_ROOT=str(media_root)),
        stdout=subprocess.DEVNULL,  # nobody reads it while it runs: a full pipe would block it
    )  # fmt: skip
    try:
        yield worker
    finally:
        worker.terminate()
        worker.wait(10)


def events_csv() -> bytes:
    lines = ["id,event,idfa,revenue,currency,callback.order"]
    lines += [f"order-{i},f0ob4r,{IDFA},{i}.99,EUR,{i}" for i in range(1, VALID_ROWS)]
    lines += [
        f"bad-1,no-such-event,{IDFA},,,",  # line 41
        "bad-2,f0ob4r,not-a-device-id,,,",  # line 42
        f"bad-3,f0ob4r,{IDFA},5,,",  # line 43: revenue without a currency
        f"refund-1,Refund,{IDFA},,,",  # line 44: valid here, refused by the MMP
    ]
    return ("\n".join(lines) + "\n").encode()


def test_a_marketer_sends_a_csv_with_bad_rows_and_downloads_the_results(
    adjust, media, live_server, page: Page, marketer, request
):
    with worker_for_both_queues(media):
        log_in(page, live_server, marketer)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Bulk send").click()
        expect(page.get_by_role("heading", name="Columns")).to_be_visible()
        page.get_by_label("App").select_option(str(adjust.pk))
        page.get_by_label("CSV file").set_input_files(
            {"name": "march-orders.csv", "mimeType": "text/csv", "buffer": events_csv()}
        )
        screenshots(page, request, "upload")
        page.get_by_role("button", name="Check the file").click()

        # The check runs in the worker; bulk.js reloads the page when the report is ready.
        send = page.get_by_role("button", name=f"Send the {VALID_ROWS} valid rows")
        expect(send).to_be_visible(timeout=30_000)
        report = page.locator("section", has=page.get_by_role("heading", name="Report"))
        expect(report).to_contain_text("Invalid")
        problems = page.locator("table.bulk-problems tbody tr")
        expect(problems).to_have_count(3)
        expect(problems.nth(0)).to_contain_text("41")
        expect(problems.nth(0)).to_contain_text("not an event token or event name")
        expect(problems.nth(2)).to_contain_text("currency")
        assert not Delivery.objects.exists()
        screenshots(page, request, "report")

        send.click()
        bar = page.get_by_role("progressbar", name="Deliveries finished")
        expect(bar).to_be_visible()
        screenshots(page, request, "sending")
        expect(page.locator("#bulk-progress h2")).to_have_text("Finished", timeout=FINISHED_WITHIN_MS)
        expect(bar).to_have_attribute("aria-valuenow", "100")
        # Sized by bulk.js: the Content-Security-Policy ignores style= attributes in the HTML.
        expect(bar.locator(".delivered")).to_have_attribute("style", "width: 97.5%;")
        expect(bar.locator(".failed")).to_have_attribute("style", "width: 2.5%;")
        counts = page.locator("#bulk-progress .bulk-counts")
        expect(counts).to_contain_text(re.compile(rf"Delivered\s*{VALID_ROWS - 1}"))
        expect(counts).to_contain_text(re.compile(r"Failed\s*1"))
        expect(counts).to_contain_text(re.compile(r"Remaining\s*0"))

        with page.expect_download() as download_info:
            page.get_by_role("link", name="Download results (CSV)").click()
        download = download_info.value
        rows = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8").read())))  # noqa: SIM115
        screenshots(page, request)

    bulk = BulkSend.objects.get()
    assert download.suggested_filename == f"bulk-{bulk.pk}-results.csv"
    assert len(rows) == VALID_ROWS + 3
    assert {row["status"] for row in rows[: VALID_ROWS - 1]} == {"delivered"}
    assert [(r["line"], r["id"], r["status"]) for r in rows[-4:]] == [
        ("41", "bad-1", "invalid"),
        ("42", "bad-2", "invalid"),
        ("43", "bad-3", "invalid"),
        ("44", "refund-1", "failed"),
    ]
    assert rows[-1]["MMP message"] == "Invalid event token"
    assert Delivery.objects.filter(bulk_send=bulk, status=Status.DELIVERED).count() == VALID_ROWS - 1
    assert reverse("bulk_detail", args=[bulk.pk]) in page.url
