"""CSV bulk sends: upload, the check job's report, sending the valid rows, progress, cancel, the
results CSV, bad files, access; with a real database, Redis and RQ worker (on the "default" queue
for the bulk jobs, "sends" for the deliveries)."""

import csv
import io
import tracemalloc
from datetime import timedelta

import django_rq
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from rq import Callback

from events.bulk import jobs as bulk_jobs
from events.engine import send_queue
from events.models import BulkSend, Delivery, OrderMark, Source, Status
from tests.conftest import IDFA, run_worker

pytestmark = pytest.mark.django_db(transaction=True)
State = BulkSend.State

OTHER_IDFA = "9A3CB124-5A79-4334-8802-F75FEC099C58"
GOOD_AND_BAD = (
    "id,event,idfa,revenue,currency,callback.order\n"
    f"o-1,f0ob4r,{IDFA},1.5,EUR,1001\n"  # line 2
    f"o-2,nope,{IDFA},,,\n"  # line 3: unknown event
    "o-3,f0ob4r,not-an-idfa,,,\n"  # line 4: bad device id
    f"o-4,Signup,{IDFA},,,1004\n"  # line 5: by the event's name
    f",2y7e81,{IDFA},2,,\n"  # line 6: revenue without currency
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def as_marketer(client_for, marketer, redis_conn):
    return client_for(marketer)


def run_bulk_jobs() -> None:
    """The bulk jobs' worker: check_bulk and queue_bulk run on the "default" queue."""
    worker = django_rq.get_worker("default")
    assert [q.name for q in worker.queues] == ["default"]
    worker.work(burst=True)


def upload(client, app, text: str | bytes, name: str = "events.csv"):
    data = text.encode() if isinstance(text, str) else text
    return client.post(
        reverse("bulk_upload"), {"app": app.pk, "file": SimpleUploadedFile(name, data, "text/csv")}
    )


def checked(client, app, text: str) -> BulkSend:
    response = upload(client, app, text)
    assert response.status_code == 302, response.content.decode()[-2000:]
    run_bulk_jobs()
    return BulkSend.objects.latest("created_at")


def sent(client, bulk: BulkSend) -> BulkSend:
    """Started as a user does: confirmed, with production's tick (an MMP without a sandbox, like
    Tenjin, takes production only)."""
    confirmation = {"confirmed": "yes", "confirm_production": "on"}
    assert client.post(reverse("bulk_start", args=[bulk.pk]), confirmation).status_code == 302
    run_bulk_jobs()
    bulk.refresh_from_db()
    return bulk


def results(client, bulk: BulkSend) -> list[dict[str, str]]:
    response = client.get(reverse("bulk_results", args=[bulk.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def send_jobs() -> int:
    """Send jobs waiting on the sends queue (a worker's maintenance may enqueue others there)."""
    return sum(job.func_name == "events.engine.jobs.send_deliveries" for job in send_queue().jobs)


def many_rows(count: int, prefix: str = "r") -> str:
    lines = ["id,event,idfa,callback.n"]
    lines += [f"{prefix}{i},f0ob4r,{IDFA},{i}" for i in range(count)]
    return "\n".join(lines) + "\n"


# --- The template and the upload form --------------------------------------------------------


def test_the_template_has_the_columns_of_the_apps_mmp(as_marketer, adjust_app, tenjin_app):
    adjust_header = as_marketer.get(reverse("bulk_template", args=[adjust_app.pk])).content.decode()
    tenjin_header = as_marketer.get(reverse("bulk_template", args=[tenjin_app.pk])).content.decode()
    assert adjust_header.startswith("id,event,idfa,idfv,")
    assert "created_at,revenue,currency,environment,ip_address,user_agent" in adjust_header
    assert tenjin_header.startswith("id,event,advertising_id,developer_device_id,analytics_installation_id,")
    assert "value" in tenjin_header and "created_at" not in tenjin_header


def test_the_page_explains_the_columns_and_offers_each_apps_template(as_marketer, adjust_app):
    page = as_marketer.get(reverse("bulk")).content.decode()
    for text in ("callback.&lt;name&gt;", "partner.&lt;name&gt;", "<code>id</code>", "<code>idfa</code>"):
        assert text in page
    assert reverse("bulk_template", args=[adjust_app.pk]) in page


# --- The check: a report, nothing sent -----------------------------------------------------------


def test_the_check_counts_valid_rows_and_lists_bad_ones_by_line_and_sends_nothing(as_marketer, adjust_app):
    bulk = checked(as_marketer, adjust_app, GOOD_AND_BAD)
    assert bulk.state == State.CHECKED
    assert (bulk.total_rows, bulk.valid_rows, bulk.invalid_rows, bulk.guarded_rows) == (5, 2, 3, 0)
    problems = {p["line"]: p for p in bulk.problems}
    assert sorted(problems) == [3, 4, 6]
    assert "not an event token or event name" in problems[3]["errors"]["event"][0]
    assert "idfa" in problems[4]["errors"]
    assert problems[3]["id"] == "o-2"
    assert Delivery.objects.count() == 0
    assert send_jobs() == 0
    page = as_marketer.get(reverse("bulk_detail", args=[bulk.pk])).content.decode()
    assert "Send the 2 valid rows" in page
    assert "not an event token or event name" in page


def test_a_file_uploaded_while_redis_is_unreachable_says_so_and_starting_it_then_keeps_it_checked(
    as_marketer, adjust_app, settings
):
    alive = settings.RQ_QUEUES
    settings.RQ_QUEUES = {**alive, "default": {"URL": "redis://127.0.0.1:1/0"}}
    upload(as_marketer, adjust_app, GOOD_AND_BAD)
    bulk = BulkSend.objects.get()
    assert bulk.state == State.ERROR
    assert "The job queue (Redis) is unreachable, so nothing started" in bulk.error

    settings.RQ_QUEUES = alive
    bulk = checked(as_marketer, adjust_app, GOOD_AND_BAD)
    settings.RQ_QUEUES = {**alive, "default": {"URL": "redis://127.0.0.1:1/0"}}
    confirmation = {"confirmed": "yes", "confirm_production": "on"}
    as_marketer.post(reverse("bulk_start", args=[bulk.pk]), confirmation)
    bulk.refresh_from_db()
    assert (bulk.state, bulk.started_at) == (State.CHECKED, None)
    assert "unreachable" in bulk.error
    assert Delivery.objects.count() == 0


def test_rows_the_order_guard_would_refuse_are_counted_apart_with_the_reason(as_marketer, adjust_app):
    now = timezone.now()
    OrderMark.objects.create(
        app=adjust_app,
        event_token=adjust_app.event_tokens.get(token="f0ob4r"),
        device_id=IDFA,
        newest_event_time=now,
    )
    earlier = int((now - timedelta(hours=1)).timestamp())
    text = f"event,idfa,created_at\nf0ob4r,{IDFA},{earlier}\nf0ob4r,{OTHER_IDFA},{earlier}\n"
    bulk = checked(as_marketer, adjust_app, text)
    assert (bulk.valid_rows, bulk.invalid_rows, bulk.guarded_rows) == (1, 0, 1)
    (problem,) = bulk.problems
    assert (problem["line"], problem["kind"]) == (2, "guarded")
    assert "time order" in problem["errors"]["created_at"][0]
    page = as_marketer.get(reverse("bulk_detail", args=[bulk.pk])).content.decode()
    assert "Refused (order or age)" in page and "time order only" in page


def test_a_check_job_waiting_under_the_modules_old_path_still_runs(as_marketer, adjust_app):
    """Jobs enqueued before the bulk modules moved to events/bulk/ name events.bulk_jobs (RQ
    imports a job's function by its dotted path); a worker of the new code still runs them."""
    assert upload(as_marketer, adjust_app, GOOD_AND_BAD).status_code == 302
    queue = django_rq.get_queue("default")
    [new_job] = queue.get_jobs()
    assert new_job.func_name == "events.bulk.jobs.check_bulk"  # new jobs name the new path
    new_job.delete()
    bulk = BulkSend.objects.get()
    queue.enqueue("events.bulk_jobs.check_bulk", bulk.pk, on_failure=Callback("events.bulk_jobs.job_failed"))

    run_bulk_jobs()

    bulk.refresh_from_db()
    assert (bulk.state, bulk.valid_rows, bulk.invalid_rows) == (State.CHECKED, 2, 3)


def test_a_tenjin_file_maps_its_columns_to_tenjin_fields(as_marketer, tenjin_app):
    from tests.conftest import TENJIN_ADVERTISING_ID, TENJIN_INSTALLATION_ID

    ids = f"{TENJIN_ADVERTISING_ID},{TENJIN_INSTALLATION_ID}"
    text = (
        "event,advertising_id,analytics_installation_id,os_version,value,product_id,quantity,price,currency,created_at\n"
        f"level_up,{ids},33,5,,,,,\n"
        f"purchase,{ids},33,,gems_100,2,0.99,USD,\n"
        f"level_up,{ids},33,,,,,,1700000000\n"
    )
    bulk = sent(as_marketer, checked(as_marketer, tenjin_app, text))
    assert (bulk.valid_rows, bulk.invalid_rows) == (2, 1)
    assert "takes no event time" in bulk.problems[0]["errors"]["created_at"][0]
    purchase = Delivery.objects.get(bulk_send=bulk, bulk_line=3)
    assert {k: purchase.params[k] for k in ("product_id", "quantity", "price", "currency")} == {
        "product_id": "gems_100", "quantity": "2", "price": "0.99", "currency": "USD",
    }  # fmt: skip


def test_a_row_with_more_cells_than_columns_is_a_bad_row_not_a_bad_file(as_marketer, adjust_app):
    bulk = checked(as_marketer, adjust_app, f"event,idfa\nf0ob4r,{IDFA},extra\nf0ob4r,{IDFA}\n")
    assert (bulk.state, bulk.valid_rows, bulk.invalid_rows) == (State.CHECKED, 1, 1)
    assert "3 cells" in bulk.problems[0]["errors"]["row"][0]


def test_quoted_cells_over_several_lines_keep_the_line_where_the_row_starts(as_marketer, adjust_app):
    text = f'event,idfa,callback.note\nf0ob4r,{IDFA},"two\nlines"\nnope,{IDFA},x\n'
    bulk = checked(as_marketer, adjust_app, text)
    assert [p["line"] for p in bulk.problems] == [4]


def test_problems_are_escaped_on_the_page(as_marketer, adjust_app):
    bulk = checked(as_marketer, adjust_app, f"event,idfa\n<script>alert(1)</script>,{IDFA}\n")
    page = as_marketer.get(reverse("bulk_detail", args=[bulk.pk])).content.decode()
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- Bad files: a clear error, never a 500 -------------------------------------------------------

HEADER = "id,event,idfa\n"
ROW = f"1,f0ob4r,{IDFA}\n"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty"),
        (b"\n\n" + ROW.encode(), "The first line is empty"),
        (HEADER.encode(), "no events below it"),
        ("id,event,idfa\n1,f0ob4r,é\n".encode("latin-1"), "not UTF-8"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00binary", "binary data"),
        (f"id;event;idfa\n1;f0ob4r;{IDFA}\n".encode(), "not separated by commas"),
        (f"idfa,name\n{IDFA},f0ob4r\n".encode(), "There is no event column"),
        (f"id,event,idfa,colour,gps_adid\n1,f0ob4r,{IDFA},red,x\n".encode(), "Unknown columns: colour, gps_adid"),
        (f"id,event,event\n1,f0ob4r,{IDFA}\n".encode(), "more than once: event"),
        (b"event,callback.\nf0ob4r,1\n", "name after the dot"),
        (f'event,idfa\n"f0ob4r,{IDFA}\n'.encode(), "Line 2 is not valid CSV: unexpected end of data"),
    ],
    ids=[
        "empty", "no-header", "header-only", "latin-1", "binary", "semicolons", "no-event-column",
        "unknown-columns", "duplicate-column", "nameless-callback", "unclosed-quote",
    ],
)  # fmt: skip
def test_an_unusable_file_gets_a_clear_error_and_nothing_is_stored(as_marketer, adjust_app, data, message):
    response = upload(as_marketer, adjust_app, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not BulkSend.objects.exists()


def test_a_file_too_large_is_refused_at_upload(as_marketer, adjust_app, settings):
    settings.BULK_MAX_BYTES = 100
    response = upload(as_marketer, adjust_app, many_rows(10))
    assert "upload at most" in response.content.decode()
    assert not BulkSend.objects.exists()


def test_more_rows_than_the_limit_stop_the_check_with_a_clear_error(as_marketer, adjust_app, settings):
    settings.BULK_MAX_ROWS = 3
    bulk = checked(as_marketer, adjust_app, many_rows(5))
    assert bulk.state == State.ERROR
    assert bulk.error == "The file has more than 3 rows; split it into files of 3 rows or fewer."
    page = as_marketer.get(reverse("bulk_detail", args=[bulk.pk]))
    assert page.status_code == 200 and "split it into files" in page.content.decode()


def test_bytes_that_are_not_utf8_further_down_the_file_are_reported_with_their_line(as_marketer, adjust_app):
    text = many_rows(2000).encode() + f"x,f0ob4r,{IDFA},caf\xe9\n".encode("latin-1")
    assert len(text) > 64 * 1024
    bulk = checked(as_marketer, adjust_app, text)
    assert bulk.state == State.ERROR
    assert "not UTF-8 text (line 2002)" in bulk.error


def test_a_missing_stored_file_ends_the_check_with_an_error(as_marketer, adjust_app):
    as_marketer.post(
        reverse("bulk_upload"),
        {"app": adjust_app.pk, "file": SimpleUploadedFile("a.csv", many_rows(2).encode())},
    )
    bulk = BulkSend.objects.get()
    bulk.file.storage.delete(bulk.file.name)
    run_bulk_jobs()
    bulk.refresh_from_db()
    assert (bulk.state, bulk.error) == (
        State.ERROR,
        "The uploaded file is no longer stored on the server; upload it again.",
    )


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


# --- Access --------------------------------------------------------------------------------------------


def bulk_urls(bulk: BulkSend) -> dict[str, list[str]]:
    return {
        "get": [
            reverse("bulk"),
            reverse("bulk_detail", args=[bulk.pk]),
            reverse("bulk_progress", args=[bulk.pk]),
            reverse("bulk_results", args=[bulk.pk]),
            reverse("bulk_template", args=[bulk.app.pk]),
        ],
        "post": [
            reverse("bulk_upload"),
            reverse("bulk_start", args=[bulk.pk]),
            reverse("bulk_cancel", args=[bulk.pk]),
        ],
    }


@pytest.fixture
def a_bulk(adjust_app, admin, media):
    bulk = BulkSend(app=adjust_app, created_by=admin, filename="a.csv", state=State.QUEUED)
    bulk.file.save("a.csv", SimpleUploadedFile("a.csv", many_rows(1).encode()), save=True)
    return bulk


@pytest.mark.parametrize("role", ["viewer", "outsider"])
def test_viewers_and_users_without_a_role_get_403(request, client_for, a_bulk, role):
    client = client_for(request.getfixturevalue(role))
    urls = bulk_urls(a_bulk)
    for url in urls["get"]:
        assert client.get(url).status_code == 403, url
    for url in urls["post"]:
        assert client.post(url).status_code == 403, url


def test_an_anonymous_visitor_is_sent_to_log_in(client, a_bulk):
    urls = bulk_urls(a_bulk)
    for url in urls["get"] + urls["post"]:
        response = client.post(url) if url in urls["post"] else client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url


def test_changes_take_post_only(client_for, admin, a_bulk):
    client = client_for(admin)
    for url in bulk_urls(a_bulk)["post"]:
        assert client.get(url).status_code == 405, url


def test_marketers_and_admins_see_every_bulk_send(client_for, marketer, a_bulk):
    page = client_for(marketer).get(reverse("bulk")).content.decode()
    assert "a.csv" in page and "alice-admin" in page
    assert client_for(marketer).get(reverse("bulk_detail", args=[a_bulk.pk])).status_code == 200


def test_the_nav_links_bulk_send_for_marketers_only(client, marketer, viewer):
    client.force_login(marketer)
    assert reverse("bulk") in client.get(reverse("overview")).content.decode()
    client.force_login(viewer)
    assert reverse("bulk") not in client.get(reverse("overview")).content.decode()


# --- One odd cell is its line's error; columns that share a name (issue 9) ------------------------


def test_odd_cells_are_their_lines_errors_and_the_rest_of_the_file_is_checked(as_marketer, adjust_app):
    text = (
        "id,event,idfa,created_at,revenue,currency\n"
        f"a-1,f0ob4r,{IDFA},,,\n"  # line 2: good
        f"a-2,f0ob4r,{IDFA},²,,\n"  # line 3: a superscript digit
        f"a-3,f0ob4r,{IDFA},,{'9' * 5000},EUR\n"  # line 4: past Python's 4,300-digit limit
        f"a-4,f0ob4r,{IDFA},,٤.٩٩,EUR\n"  # line 5: Arabic-Indic digits
        f"{'x' * 100}a,f0ob4r,{IDFA},,,\n"  # line 6: an id too long to keep whole
        f"{'x' * 100}b,f0ob4r,{IDFA},,,\n"  # line 7: would be line 6's id, cut at 100
        f"a-8,f0ob4r,{IDFA},,,\n"  # line 8: good
    )
    bulk = checked(as_marketer, adjust_app, text)
    assert bulk.state == State.CHECKED
    assert (bulk.total_rows, bulk.valid_rows, bulk.invalid_rows) == (7, 2, 5)
    problems = {p["line"]: p["errors"] for p in bulk.problems}
    assert sorted(problems) == [3, 4, 5, 6, 7]
    assert problems[3]["created_at"][0].startswith("created_at must be unix seconds")
    assert problems[4]["revenue"] == ["revenue has 5000 digits; at most 30 are allowed."]
    assert problems[5]["revenue"][0].startswith("revenue must be a plain decimal number")
    assert problems[6]["id"] == problems[7]["id"] == ["id is 101 characters long; at most 100 are allowed."]
    assert Delivery.objects.count() == 0


def test_a_callback_and_a_partner_param_and_a_device_id_may_share_a_name(as_marketer, adjust_app):
    text = f"id,event,idfa,callback.user_id,partner.user_id,callback.idfa\nu-1,f0ob4r,{IDFA},7,8,9\n"
    bulk = sent(as_marketer, checked(as_marketer, adjust_app, text))
    params = Delivery.objects.get(bulk_send=bulk).params
    assert (params["idfa"], params["callback_params"], params["partner_params"]) == (
        IDFA,
        '{"user_id":"7", "idfa":"9"}',
        '{"user_id":"8"}',
    )


def test_the_same_callback_column_twice_is_still_refused(as_marketer, adjust_app):
    response = upload(as_marketer, adjust_app, f"event,idfa,callback.a,Callback.a\nf0ob4r,{IDFA},1,2\n")
    assert "These columns appear more than once: callback.a." in response.content.decode()


def test_a_bulk_row_without_an_id_gets_a_key_in_s2sadmins_own_namespace(as_marketer, adjust_app):
    bulk = sent(as_marketer, checked(as_marketer, adjust_app, f"event,idfa\nf0ob4r,{IDFA}\n"))
    delivery = Delivery.objects.get(bulk_send=bulk)
    assert delivery.idempotency_key == f"s2s:bulk-{bulk.pk}-2"
