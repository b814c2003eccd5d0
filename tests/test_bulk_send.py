"""CSV bulk sends once started: queueing the valid rows, confirming production, every line's result,
duplicates, progress, retries of a failing job, cancelling, and memory while queueing a large file."""

import csv
import io
import tracemalloc

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from events.bulk import jobs as bulk_jobs
from events.models import BulkSend, Delivery, Source, Status
from tests.bulk_helpers import *  # noqa: F403 (the fixtures as_marketer and media, autouse)
from tests.bulk_helpers import (
    GOOD_AND_BAD,
    State,
    checked,
    many_rows,
    results,
    run_bulk_jobs,
    send_jobs,
    sent,
    upload,
)
from tests.conftest import IDFA, run_worker

pytestmark = pytest.mark.django_db(transaction=True)


# --- Sending ---------------------------------------------------------------------------------------


def test_starting_queues_the_valid_rows_with_their_lines(as_marketer, adjust_app, marketer):
    bulk = sent(as_marketer, checked(as_marketer, adjust_app, GOOD_AND_BAD))
    assert (bulk.state, bulk.queued_rows) == (State.QUEUED, 2)
    deliveries = Delivery.objects.filter(bulk_send=bulk).order_by("bulk_line")
    assert [(d.bulk_line, d.source, d.status, d.created_by) for d in deliveries] == [
        (2, Source.BULK, Status.QUEUED, marketer),
        (5, Source.BULK, Status.QUEUED, marketer),
    ]
    assert deliveries[0].idempotency_key == "o-1"
    assert deliveries[0].params["callback_params"] == '{"order":"1001"}'
    assert send_jobs() == 1  # one send job for the batch


def test_a_bulk_starts_once(as_marketer, adjust_app):
    bulk = sent(as_marketer, checked(as_marketer, adjust_app, GOOD_AND_BAD))
    response = as_marketer.post(reverse("bulk_start", args=[bulk.pk]), follow=True)
    assert "cannot start" in response.content.decode()
    run_bulk_jobs()
    assert Delivery.objects.count() == 2


MIXED_ENVIRONMENTS = (
    "id,event,idfa,environment\n"
    f"p-1,f0ob4r,{IDFA},production\n"
    f"p-2,Signup,{IDFA},production\n"
    f"s-1,f0ob4r,{IDFA},sandbox\n"
    f"bad,nope,{IDFA},production\n"  # invalid: not counted
)


def test_a_production_bulk_send_asks_first_and_says_how_many_go_to_which_mmp(as_marketer, adjust_app):
    bulk = checked(as_marketer, adjust_app, MIXED_ENVIRONMENTS)
    assert (bulk.valid_rows, bulk.production_rows) == (3, 2)
    page = as_marketer.get(reverse("bulk_detail", args=[bulk.pk])).content.decode()
    assert "3 events will go to <strong>Adjust</strong> for Demo Adjust iOS: 2 production, 1 sandbox." in page
    assert 'name="confirm_production"' in page and 'name="confirmed" value="yes"' in page
    start = reverse("bulk_start", args=[bulk.pk])
    page = as_marketer.post(start, follow=True).content.decode()
    assert "Nothing changed: confirm first that you want to send 2 rows to production." in page
    page = as_marketer.post(start, {"confirmed": "yes"}, follow=True).content.decode()
    assert "Not sent: production rows count as real data; tick the box to confirm." in page
    bulk.refresh_from_db()
    assert bulk.state == State.CHECKED and not Delivery.objects.exists()
    as_marketer.post(start, {"confirmed": "yes", "confirm_production": "on"})
    run_bulk_jobs()
    bulk.refresh_from_db()
    assert (bulk.state, bulk.queued_rows) == (State.QUEUED, 3)
    assert sorted(Delivery.objects.values_list("environment", flat=True)) == [
        "production",
        "production",
        "sandbox",
    ]


def test_a_sandbox_only_bulk_send_says_where_it_goes_and_needs_no_tick(as_marketer, adjust_app):
    bulk = checked(as_marketer, adjust_app, GOOD_AND_BAD)
    assert bulk.production_rows == 0
    page = as_marketer.get(reverse("bulk_detail", args=[bulk.pk])).content.decode()
    assert "2 events will go to <strong>Adjust</strong> for Demo Adjust iOS: 0 production, 2 sandbox." in page
    assert 'name="confirm_production"' not in page


def test_a_file_with_bad_rows_end_to_end_gives_every_lines_result(as_marketer, adjust, emulator):
    adjust.event_tokens.create(name="Refund", token="r3fund")  # not known to the MMP
    text = GOOD_AND_BAD + f"o-7,Refund,{IDFA},,,\n"  # line 7: valid here, rejected by the MMP
    bulk = sent(as_marketer, checked(as_marketer, adjust, text))
    run_worker()
    rows = results(as_marketer, bulk)
    assert [(r["line"], r["id"], r["status"]) for r in rows] == [
        ("2", "o-1", "delivered"),
        ("3", "o-2", "invalid"),
        ("4", "o-3", "invalid"),
        ("5", "o-4", "delivered"),
        ("6", "", "invalid"),
        ("7", "o-7", "failed"),
    ]
    assert rows[0]["HTTP status"] == "200" and rows[0]["delivery id"]
    assert "event: " in rows[1]["explanation"]
    assert (rows[5]["HTTP status"], rows[5]["MMP message"]) == ("400", "Invalid event token")
    assert rows[5]["explanation"]
    page = as_marketer.get(reverse("bulk_progress", args=[bulk.pk])).content.decode()
    assert 'data-live="0"' in page and "Finished" in page


def test_the_results_csv_defuses_formulas(as_marketer, adjust_app):
    bulk = sent(
        as_marketer, checked(as_marketer, adjust_app, f"id,event,idfa\n=HYPERLINK(1),f0ob4r,{IDFA}\n")
    )
    (row,) = results(as_marketer, bulk)
    assert row["id"] == "'=HYPERLINK(1)"


def test_the_same_file_uploaded_twice_sends_each_event_once(as_marketer, adjust_app):
    first = sent(as_marketer, checked(as_marketer, adjust_app, GOOD_AND_BAD))
    again = checked(as_marketer, adjust_app, GOOD_AND_BAD + f"o-8,f0ob4r,{IDFA},,,\n")
    assert (again.valid_rows, again.total_rows - again.valid_rows - again.invalid_rows) == (1, 2)
    assert {p["kind"] for p in again.problems} == {"invalid", "duplicate"}
    again = sent(as_marketer, again)
    assert Delivery.objects.filter(idempotency_key="o-1").count() == 1
    assert Delivery.objects.filter(bulk_send=again).count() == 1
    line_2 = results(as_marketer, again)[0]
    earlier = Delivery.objects.get(bulk_send=first, bulk_line=2)
    assert (line_2["status"], line_2["delivery id"]) == ("duplicate", str(earlier.pk))


def test_an_id_repeated_in_the_file_is_sent_once(as_marketer, adjust_app):
    text = many_rows(1500) + f"r3,f0ob4r,{IDFA},again\n"  # a repeat in another batch of 1,000
    bulk = checked(as_marketer, adjust_app, text)
    assert (bulk.valid_rows, bulk.problems[0]["line"]) == (1500, 1502)
    assert "earlier line" in bulk.problems[0]["errors"]["id"][0]
    bulk = sent(as_marketer, bulk)
    assert Delivery.objects.filter(bulk_send=bulk).count() == 1500


def test_a_row_that_went_bad_since_the_check_is_not_sent_and_explained(as_marketer, adjust_app):
    bulk = checked(as_marketer, adjust_app, GOOD_AND_BAD)
    adjust_app.event_tokens.filter(name="Signup").update(archived_at=timezone.now())
    bulk = sent(as_marketer, bulk)
    assert bulk.queued_rows == 1
    (late,) = [p for p in bulk.problems if p.get("when") == "send"]
    assert late["line"] == 5 and "archived" in late["errors"]["event_token"][0]


def test_progress_is_one_aggregate_query_over_the_deliveries(
    as_marketer, adjust_app, django_assert_num_queries
):
    bulk = sent(as_marketer, checked(as_marketer, adjust_app, GOOD_AND_BAD))
    Delivery.objects.filter(bulk_send=bulk, bulk_line=2).update(status=Status.DELIVERED, attempt_count=1)
    with django_assert_num_queries(1):
        progress = bulk_jobs.progress(bulk)
    assert (progress.total, progress.attempted, progress.delivered, progress.remaining) == (2, 1, 1, 1)
    assert not progress.done
    page = as_marketer.get(reverse("bulk_progress", args=[bulk.pk])).content.decode()
    assert 'data-live="1"' in page and 'class="delivered" data-percent="50.0"' in page
    assert '<noscript><progress class="bulk-fallback" max="100" value="50">' in page  # without JS


def test_a_job_that_keeps_failing_is_tried_three_times_then_the_bulk_says_so(
    as_marketer, adjust_app, monkeypatch
):
    tries = []

    def broken(bulk):
        tries.append(bulk.pk)
        raise RuntimeError("database went away")

    monkeypatch.setattr(bulk_jobs, "_check", broken)
    upload(as_marketer, adjust_app, many_rows(3))
    run_bulk_jobs()
    bulk = BulkSend.objects.get()
    assert len(tries) == 3
    assert (bulk.state, bulk.error) == (State.ERROR, bulk_jobs.STOPPED)


# --- Cancelling ----------------------------------------------------------------------------------


def test_cancelling_mid_way_stops_queueing_and_fails_what_no_worker_claimed(
    as_marketer, adjust_app, monkeypatch
):
    bulk = checked(as_marketer, adjust_app, many_rows(2500))
    real_queue_batch = bulk_jobs._queue_batch

    def cancel_after_the_first_batch(bulk, checked, problems):
        queued = real_queue_batch(bulk, checked, problems)
        claimed = Delivery.objects.filter(bulk_send=bulk).order_by("bulk_line").first()
        Delivery.objects.filter(pk=claimed.pk).update(status=Status.SENDING)  # a worker has it
        cancel = reverse("bulk_cancel", args=[bulk.pk])
        assert as_marketer.post(cancel).status_code == 302  # not confirmed: nothing stops
        assert BulkSend.objects.get(pk=bulk.pk).state == State.QUEUEING
        assert as_marketer.post(cancel, {"confirmed": "yes"}).status_code == 302
        return queued

    monkeypatch.setattr(bulk_jobs, "_queue_batch", cancel_after_the_first_batch)
    bulk = sent(as_marketer, bulk)
    assert (bulk.state, bulk.queued_rows) == (State.CANCELLED, 1000)
    deliveries = Delivery.objects.filter(bulk_send=bulk)
    assert deliveries.count() == 1000
    assert deliveries.filter(status=Status.SENDING).count() == 1
    failed = deliveries.filter(status=Status.FAILED)
    assert failed.count() == 999
    assert set(failed.values_list("last_explanation", flat=True)) == {bulk_jobs.CANCELLED_BEFORE_SENDING}
    progress = bulk_jobs.progress(bulk)
    assert (progress.failed, progress.cancelled, progress.in_flight) == (999, 999, 1)
    rows = results(as_marketer, bulk)
    assert len(rows) == 2500
    assert (rows[-1]["status"], rows[-1]["explanation"]) == (
        "not sent",
        "Not sent: the bulk send was cancelled before this row was queued.",
    )


def test_cancelling_while_checking_stops_the_check(as_marketer, adjust_app):
    upload(as_marketer, adjust_app, many_rows(3))
    bulk = BulkSend.objects.get()
    page = as_marketer.get(reverse("bulk_detail", args=[bulk.pk])).content.decode()
    assert "Checking…" in page and 'data-live="1"' in page
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in page  # follows without JS too
    assert as_marketer.post(reverse("bulk_cancel", args=[bulk.pk])).status_code == 302
    run_bulk_jobs()
    bulk.refresh_from_db()
    assert (bulk.state, bulk.checked_rows) == (State.CANCELLED, 0)


def test_a_cancelled_bulk_cannot_be_cancelled_again_or_started(as_marketer, adjust_app):
    bulk = checked(as_marketer, adjust_app, GOOD_AND_BAD)
    as_marketer.post(reverse("bulk_cancel", args=[bulk.pk]))
    response = as_marketer.post(reverse("bulk_cancel", args=[bulk.pk]), follow=True)
    assert "Nothing to cancel" in response.content.decode()
    assert not bulk_jobs.start(bulk)


# --- Memory ------------------------------------------------------------------------------------------


def test_queueing_a_large_file_keeps_memory_bounded_by_a_batch(adjust_app, marketer, redis_conn):
    """Queueing streams the file in batches of 1,000: the peak (about 4 MB here, whatever the file's
    length) stays under half of what merely holding every row of a 20,000-row file as parsed cells
    takes (about 11 MB), let alone 20,000 Delivery objects."""
    count = 20_000
    text = many_rows(count)
    tracemalloc.start()
    all_rows = list(csv.reader(io.StringIO(text)))
    _, holding_all_rows = tracemalloc.get_traced_memory()
    del all_rows
    tracemalloc.stop()

    # As the check leaves it (the check itself is tested above), started.
    bulk = BulkSend(app=adjust_app, created_by=marketer, filename="big.csv", valid_rows=count)
    bulk.state, bulk.started_at = State.QUEUEING, timezone.now()
    bulk.file.save("big.csv", SimpleUploadedFile("big.csv", text.encode()), save=True)
    tracemalloc.start()
    assert bulk_jobs.queue_bulk(bulk.pk) == "queued"
    _, queueing_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert Delivery.objects.filter(bulk_send=bulk).count() == count
    print(
        f"peak while queueing {queueing_peak / 1e6:.1f} MB; all rows as cells {holding_all_rows / 1e6:.1f} MB"
    )
    assert queueing_peak < holding_all_rows / 2
