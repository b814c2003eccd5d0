"""Bulk resend from the request log: choose (ticked or all matching, capped), preview what would be
resent, retried now, skipped, and refused by the MMP's rules and why, confirm (production with the
single resend's tick), then a real RQ worker resends through the engine to the emulator over HTTP,
and the page shows the progress until done. Real PostgreSQL (or SQLite), Redis and workers."""

import re
from datetime import timedelta

import django_rq
import pytest
from django.urls import reverse
from django.utils import timezone

from events.emulator import registry
from events.engine import create_delivery, send_queue
from events.models import AuditEntry, Delivery, Environment, Source, Status
from events.resend import jobs
from events.resend.models import BulkResend, ResendItem
from tests.conftest import IDFA, TENJIN_ADVERTISING_ID, TENJIN_INSTALLATION_ID, run_worker

pytestmark = pytest.mark.django_db(transaction=True)
OTHER_IDFA = "9A3CB124-5A79-4334-8802-F75FEC099C58"
Outcome, Plan = ResendItem.Outcome, ResendItem.Plan


def unix(minutes_ago: float) -> str:
    return str(int((timezone.now() - timedelta(minutes=minutes_ago)).timestamp()))


def send(app, *, token="f0ob4r", idfa=IDFA, minutes_ago=10, environment=Environment.PRODUCTION, **more):
    fields = {"device_ids": {"idfa": idfa}, "created_at": unix(minutes_ago), "environment": environment}
    delivery, _ = create_delivery(
        app, app.event_tokens.get(token=token), {**fields, **more}, source=Source.API
    )
    return delivery


def run_resend_jobs() -> None:
    django_rq.get_worker("default").work(burst=True)


@pytest.fixture
def as_marketer(client_for, marketer, redis_conn):
    return client_for(marketer)


@pytest.fixture
def cast(adjust, tenjin, settings):
    """Deliveries that went through the real pipeline to the emulator, in every state a bulk
    resend meets: delivered (production and sandbox), older than an accepted one, too old,
    still retrying, still queued, a Tenjin one."""
    older = send(adjust, minutes_ago=30)  # refused: a newer one of its device and event was accepted
    newer = send(adjust, minutes_ago=20)
    sandbox = send(adjust, idfa=OTHER_IDFA, environment=Environment.SANDBOX)
    too_old = send(adjust, token="2y7e81")
    tenjin_one, _ = create_delivery(
        tenjin,
        tenjin.event_tokens.get(token="level_up"),
        {
            "device_ids": {
                "advertising_id": TENJIN_ADVERTISING_ID,
                "analytics_installation_id": TENJIN_INSTALLATION_ID,
            },
            "os_version": "33",
        },
        source=Source.API,
    )
    run_worker()
    # Kept 60 days (retention keeps 90): Adjust takes nothing over 58 days old.
    Delivery.objects.filter(pk=too_old.pk).update(
        params={
            **{k: v for k, v in too_old.params.items() if k != "created_at"},
            "created_at_unix": unix(60 * 24 * 60),
        }
    )
    settings.SEND_BACKOFF = [3600]  # the next one waits an hour to retry
    registry.script_faults(["500"], provider="adjust")
    retrying = send(adjust, token="2y7e81", idfa=OTHER_IDFA)
    run_worker()
    registry.clear_faults()
    settings.SEND_BACKOFF = [0, 0, 0]
    queued = send(adjust, idfa=OTHER_IDFA, minutes_ago=5)  # no worker runs: still queued
    rows = dict(
        older=older, newer=newer, sandbox=sandbox, too_old=too_old, tenjin=tenjin_one,
        retrying=retrying, queued=queued,
    )  # fmt: skip
    for row in rows.values():
        row.refresh_from_db()
    assert [rows[k].status for k in ("older", "newer", "sandbox", "too_old", "tenjin")] == [
        Status.DELIVERED
    ] * 5
    assert rows["retrying"].status == Status.RETRYING and rows["queued"].status == Status.QUEUED
    return rows


def preview_of(client, *deliveries) -> BulkResend:
    response = client.post(reverse("bulk_resend_preview"), {"ids": [d.pk for d in deliveries]})
    bulk = BulkResend.objects.latest("created_at")
    assert response["Location"] == reverse("bulk_resend", args=[bulk.pk])
    return bulk


def plans(bulk: BulkResend) -> dict[int, tuple[str, str]]:
    return {i.original_id: (i.plan, i.rule) for i in bulk.items.all()}


# --- The preview -------------------------------------------------------------------------------


def test_the_preview_says_what_would_be_resent_refused_and_skipped_and_sends_nothing(as_marketer, cast):
    before = Delivery.objects.count()
    jobs_before = send_queue().count
    bulk = preview_of(as_marketer, *cast.values())
    assert plans(bulk) == {
        cast["older"].pk: (Plan.REFUSE, "order"),
        cast["newer"].pk: (Plan.RESEND, ""),
        cast["sandbox"].pk: (Plan.RESEND, ""),
        cast["too_old"].pk: (Plan.REFUSE, "age"),
        cast["tenjin"].pk: (Plan.RESEND, ""),
        cast["retrying"].pk: (Plan.RETRY, ""),
        cast["queued"].pk: (Plan.SKIP, "on_its_way"),
    }
    assert bulk.state == BulkResend.State.PREVIEWED and bulk.production == 2
    assert Delivery.objects.count() == before and send_queue().count == jobs_before

    page = as_marketer.get(reverse("bulk_resend", args=[bulk.pk])).content.decode()
    counts = {name: re.search(rf'id="count-{name}">(\d+)<', page)[1] for name in
              ("resend", "production", "sandbox", "retry", "refused", "skipped")}  # fmt: skip
    assert counts == {
        "resend": "3",
        "production": "2",
        "sandbox": "1",
        "retry": "1",
        "refused": "2",
        "skipped": "1",
    }
    assert "<strong>Adjust</strong>: 2 events (1 production)" in page
    assert "<strong>Tenjin</strong>: 1 event (1 production)" in page
    # Why, in the provider's words, with the deliveries to open.
    assert "Adjust rejects events older than 58 days" in page
    assert "Adjust takes each device&#x27;s events per event token in time order" in page
    assert f'href="{reverse("delivery", args=[cast["older"].pk])}"' in page
    assert "Still queued." in page
    assert 'name="confirm_production"' in page  # production: the single resend's tick
    assert "Resend 4 deliveries" in page


def test_a_retrying_delivery_is_retried_now_and_a_resend_on_its_way_is_skipped(as_marketer, cast):
    first = preview_of(as_marketer, cast["newer"])
    assert as_marketer.post(reverse("bulk_resend_start", args=[first.pk]),
                            {"confirmed": "yes", "confirm_production": "on"}).status_code == 302  # fmt: skip
    run_resend_jobs()  # the copy is queued, not sent: no send worker runs
    second = preview_of(as_marketer, cast["newer"])
    assert plans(second) == {cast["newer"].pk: (Plan.SKIP, "resend_on_its_way")}


def test_all_matching_takes_the_filters_and_says_when_they_match_too_many(as_marketer, cast, settings):
    filters = {"app": cast["newer"].app_id, "environment": "production", "status": "delivered"}
    settings.BULK_RESEND_MAX = 2
    response = as_marketer.post(reverse("bulk_resend_preview"), {**filters, "scope": "all"}, follow=True)
    assert "This filter matches more than 2 deliveries" in response.content.decode()
    assert not BulkResend.objects.exists()
    settings.BULK_RESEND_MAX = 3
    as_marketer.post(reverse("bulk_resend_preview"), {**filters, "scope": "all"})
    bulk = BulkResend.objects.get()
    assert set(plans(bulk)) == {cast["older"].pk, cast["newer"].pk, cast["too_old"].pk}
    assert "app=" in bulk.filters and "status=delivered" in bulk.filters


def test_more_ticked_than_the_cap_is_refused_with_the_cap(as_marketer, cast, settings):
    settings.BULK_RESEND_MAX = 1
    ids = [cast["newer"].pk, cast["tenjin"].pk]
    page = as_marketer.post(reverse("bulk_resend_preview"), {"ids": ids}, follow=True).content.decode()
    assert "At most 1 deliveries can be resent at once; choose fewer." in page
    assert not BulkResend.objects.exists()


def test_nothing_ticked_or_a_bad_id_is_a_clear_error(as_marketer, cast):
    page = as_marketer.post(reverse("bulk_resend_preview"), {}, follow=True).content.decode()
    assert "Nothing to resend: tick the deliveries first" in page
    page = as_marketer.post(
        reverse("bulk_resend_preview"), {"ids": ["1", "x;1"]}, follow=True
    ).content.decode()
    assert "Nothing to resend: a ticked value is not a delivery id." in page
    assert not BulkResend.objects.exists()


# --- Confirmation and the job ------------------------------------------------------------------


def test_production_needs_the_confirmation_and_the_tick(as_marketer, cast):
    bulk = preview_of(as_marketer, cast["newer"], cast["sandbox"])
    start = reverse("bulk_resend_start", args=[bulk.pk])
    page = as_marketer.post(start, {}, follow=True).content.decode()
    assert "Nothing changed: confirm first" in page
    page = as_marketer.post(start, {"confirmed": "yes"}, follow=True).content.decode()
    assert "tick the box to confirm" in page
    bulk.refresh_from_db()
    assert bulk.state == BulkResend.State.PREVIEWED and not AuditEntry.objects.exists()
    as_marketer.post(start, {"confirmed": "yes", "confirm_production": "on"})
    bulk.refresh_from_db()
    assert bulk.state == BulkResend.State.QUEUEING
    entry = AuditEntry.objects.get(action="bulk_resend.started")
    assert entry.actor.username == "mark-marketer" and entry.object_id == str(bulk.pk)
    assert entry.changes["resend"] == 2 and entry.changes["production"] == 1
    # Started once: a second confirmation changes nothing.
    page = as_marketer.post(
        start, {"confirmed": "yes", "confirm_production": "on"}, follow=True
    ).content.decode()
    assert "cannot start" in page
    assert AuditEntry.objects.count() == 1


def test_sandbox_only_needs_the_confirmation_without_the_tick(as_marketer, cast):
    bulk = preview_of(as_marketer, cast["sandbox"])
    page = as_marketer.get(reverse("bulk_resend", args=[bulk.pk])).content.decode()
    assert 'name="confirm_production"' not in page and "Resend to sandbox" in page
    as_marketer.post(reverse("bulk_resend_start", args=[bulk.pk]), {"confirmed": "yes"})
    bulk.refresh_from_db()
    assert bulk.state == BulkResend.State.QUEUEING


def test_a_resend_started_while_redis_is_unreachable_goes_back_to_its_preview_and_says_so(
    as_marketer, cast, settings
):
    bulk = preview_of(as_marketer, cast["sandbox"])
    settings.RQ_QUEUES = {**settings.RQ_QUEUES, "default": {"URL": "redis://127.0.0.1:1/0"}}
    as_marketer.post(reverse("bulk_resend_start", args=[bulk.pk]), {"confirmed": "yes"})
    bulk.refresh_from_db()
    assert (bulk.state, bulk.started_at) == (BulkResend.State.PREVIEWED, None)
    assert "The job queue (Redis) is unreachable, so nothing was resent" in bulk.error


def test_the_job_resends_through_a_real_worker_and_the_emulator_and_the_page_reaches_done(as_marketer, cast):
    bulk = preview_of(as_marketer, *cast.values())
    recorded = registry.recorded_events().count()
    as_marketer.post(
        reverse("bulk_resend_start", args=[bulk.pk]), {"confirmed": "yes", "confirm_production": "on"}
    )
    progress = as_marketer.get(reverse("bulk_resend_progress", args=[bulk.pk])).content.decode()
    assert 'data-live="1"' in progress
    run_resend_jobs()
    run_worker()
    bulk.refresh_from_db()
    assert bulk.state == BulkResend.State.QUEUED
    outcomes = {i.original_id: i.outcome for i in bulk.items.all()}
    assert outcomes == {
        cast["older"].pk: Outcome.REFUSED, cast["newer"].pk: Outcome.QUEUED,
        cast["sandbox"].pk: Outcome.QUEUED, cast["too_old"].pk: Outcome.REFUSED,
        cast["tenjin"].pk: Outcome.QUEUED, cast["retrying"].pk: Outcome.RETRIED,
        cast["queued"].pk: Outcome.SKIPPED,
    }  # fmt: skip
    copies = Delivery.objects.filter(resent_from__isnull=False)
    assert sorted(copies.values_list("resent_from", flat=True)) == sorted(
        [cast["newer"].pk, cast["sandbox"].pk, cast["tenjin"].pk]
    )
    assert set(copies.values_list("status", flat=True)) == {Status.DELIVERED}
    assert all(c.created_by.username == "mark-marketer" for c in copies)
    cast["retrying"].refresh_from_db()
    assert cast["retrying"].status == Status.DELIVERED  # retried now, not copied
    # The three copies, the retried one and the queued one (the worker ran) reached the emulator.
    assert registry.recorded_events().count() == recorded + 5
    page = as_marketer.get(reverse("bulk_resend_progress", args=[bulk.pk])).content.decode()
    assert 'data-live="0"' in page and "<h2>Finished</h2>" in page
    counts = dict(re.findall(r"<dt>([^<]+)</dt><dd[^>]*>(\d+)</dd>", page))
    assert counts == {"Queued": "3", "Retried now": "1", "Skipped": "1", "Refused": "2",
                      "Delivered": "4", "Failed": "0", "Not finished": "0"}  # fmt: skip


def test_a_job_run_twice_resends_nothing_twice(as_marketer, cast):
    bulk = preview_of(as_marketer, cast["newer"], cast["tenjin"])
    as_marketer.post(
        reverse("bulk_resend_start", args=[bulk.pk]), {"confirmed": "yes", "confirm_production": "on"}
    )
    run_resend_jobs()
    # A duplicate job (RQ retrying after a lost worker) and the same bulk put back to queueing.
    BulkResend.objects.filter(pk=bulk.pk).update(state=BulkResend.State.QUEUEING)
    assert jobs.resend_bulk(bulk.pk) == "queued"
    assert Delivery.objects.filter(resent_from__isnull=False).count() == 2


def test_what_changed_since_the_preview_is_decided_again_when_sending(as_marketer, cast, adjust):
    bulk = preview_of(as_marketer, cast["newer"])
    assert plans(bulk) == {cast["newer"].pk: (Plan.RESEND, "")}
    send(adjust, minutes_ago=1)  # a newer event of the same device and event, accepted since
    run_worker()
    as_marketer.post(
        reverse("bulk_resend_start", args=[bulk.pk]), {"confirmed": "yes", "confirm_production": "on"}
    )
    run_resend_jobs()
    item = bulk.items.get()
    assert item.outcome == Outcome.REFUSED and item.rule == "order"
    assert "already accepted" in item.reason
    assert not Delivery.objects.filter(resent_from__isnull=False).exists()


# --- Who may -----------------------------------------------------------------------------------


def test_the_log_offers_ticks_to_those_who_may_resend_only(client_for, marketer, viewer, cast):
    assert 'form="resend-form"' in client_for(marketer).get(reverse("log")).content.decode()
    assert 'form="resend-form"' not in client_for(viewer).get(reverse("log")).content.decode()


@pytest.mark.parametrize("role", ["viewer", "outsider"])
def test_viewers_and_users_without_a_role_get_403(request, client_for, role, cast, marketer):
    client = client_for(marketer)
    bulk = preview_of(client, cast["newer"])
    client = client_for(request.getfixturevalue(role))
    assert client.post(reverse("bulk_resend_preview"), {"ids": [cast["newer"].pk]}).status_code == 403
    for name in ("bulk_resend", "bulk_resend_progress"):
        assert client.get(reverse(name, args=[bulk.pk])).status_code == 403
    start = client.post(
        reverse("bulk_resend_start", args=[bulk.pk]), {"confirmed": "yes", "confirm_production": "on"}
    )
    assert start.status_code == 403
    bulk.refresh_from_db()
    assert bulk.state == BulkResend.State.PREVIEWED


def test_changes_take_post_only_and_anonymous_visitors_log_in(client, client_for, marketer, cast):
    bulk = preview_of(client_for(marketer), cast["newer"])
    assert client.get(reverse("bulk_resend_preview")).status_code == 405
    assert client.get(reverse("bulk_resend_start", args=[bulk.pk])).status_code == 405
    client.logout()
    response = client.get(reverse("bulk_resend", args=[bulk.pk]))
    assert response.status_code == 302 and reverse("login") in response["Location"]
