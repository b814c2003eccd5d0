"""CSV bulk sends, before anything is sent: the template and the upload form, the check job's report
of valid, bad and refused rows by line, odd cells, and columns that share a name."""

from datetime import timedelta

import django_rq
import pytest
from django.urls import reverse
from django.utils import timezone
from rq import Callback

from events.models import BulkSend, Delivery, OrderMark
from tests.bulk_helpers import *  # noqa: F403 (the fixtures as_marketer and media, autouse)
from tests.bulk_helpers import GOOD_AND_BAD, State, checked, run_bulk_jobs, send_jobs, sent, upload
from tests.conftest import IDFA

pytestmark = pytest.mark.django_db(transaction=True)


OTHER_IDFA = "9A3CB124-5A79-4334-8802-F75FEC099C58"


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
