"""Retention: final deliveries and their attempts older than RETENTION_DAYS go, in batches, from a
job the workers schedule at most once an hour; nothing still on its way is ever removed."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events.engine import liveness, retention, send_queue
from events.models import Attempt, Delivery, OrderMark, Source, Status
from tests.conftest import IDFA, run_worker

pytestmark = pytest.mark.django_db(transaction=True)


def make(app, *, days_old: float, status: Status = Status.DELIVERED, attempts: int = 1) -> Delivery:
    delivery = Delivery.objects.create(
        app=app,
        event_token=app.event_tokens.get(token="f0ob4r"),
        source=Source.CLI,
        params={"idfa": IDFA},
        environment="sandbox",
        device_id=IDFA,
        status=status,
        created_at=timezone.now() - timedelta(days=days_old),
    )
    for number in range(1, attempts + 1):
        Attempt.objects.create(
            delivery=delivery, number=number, method="POST", url="https://s2s.adjust.com/event"
        )
    return delivery


def test_final_deliveries_older_than_the_retention_go_with_their_attempts(adjust_app, settings):
    settings.RETENTION_DAYS = 90
    old = [
        make(adjust_app, days_old=91, status=status, attempts=2)
        for status in (Status.DELIVERED, Status.FAILED, Status.DEAD)
    ]
    young = make(adjust_app, days_old=89)
    purged = retention.purge()
    assert (purged.deliveries, purged.attempts, purged.finished) == (3, 6, True)
    assert list(Delivery.objects.all()) == [young]
    assert not Attempt.objects.filter(delivery_id__in=[d.pk for d in old]).exists()


def test_a_delivery_still_on_its_way_is_never_removed(adjust_app):
    waiting = [
        make(adjust_app, days_old=200, status=status)
        for status in (Status.QUEUED, Status.RETRYING, Status.SENDING)
    ]
    assert retention.purge().deliveries == 0
    assert Delivery.objects.count() == len(waiting)


def test_it_deletes_in_batches_of_the_configured_size(adjust_app):
    for _ in range(7):
        make(adjust_app, days_old=100)
    with CaptureQueriesContext(connection) as queries:
        purged = retention.purge(batch_size=3)
    deletes = [q["sql"] for q in queries if q["sql"].startswith('DELETE FROM "events_delivery"')]
    assert purged.deliveries == 7
    assert len(deletes) == 3  # 3 + 3 + 1


def test_a_resend_of_a_removed_delivery_stays_and_forgets_its_original(adjust_app):
    original = make(adjust_app, days_old=100)
    resend = make(adjust_app, days_old=1)
    Delivery.objects.filter(pk=resend.pk).update(resent_from=original)
    retention.purge()
    resend.refresh_from_db()
    assert resend.resent_from is None


def test_it_stops_at_its_time_limit_and_the_next_run_goes_on(adjust_app):
    for _ in range(4):
        make(adjust_app, days_old=100)
    first = retention.purge(batch_size=1, max_seconds=0)
    assert (first.deliveries, first.finished) == (1, False)
    assert retention.purge(batch_size=1).deliveries == 3


def test_order_marks_older_than_58_days_go_too(adjust_app):
    token = adjust_app.event_tokens.get(token="f0ob4r")
    OrderMark.objects.create(
        app=adjust_app,
        event_token=token,
        device_id="old",
        newest_event_time=timezone.now() - timedelta(days=59),
    )
    OrderMark.objects.create(
        app=adjust_app,
        event_token=token,
        device_id="new",
        newest_event_time=timezone.now() - timedelta(days=57),
    )
    assert retention.purge().order_marks == 1
    assert list(OrderMark.objects.values_list("device_id", flat=True)) == ["new"]


def test_worker_maintenance_schedules_the_retention_job_once_an_hour_and_a_worker_runs_it(
    adjust_app, redis_conn
):
    make(adjust_app, days_old=100)
    run_worker()  # its maintenance enqueues the job, then it runs it
    assert Delivery.objects.count() == 0
    assert 3500 < redis_conn.ttl(liveness.RETENTION_LOCK) <= 3600
    run_worker()
    assert not [job for job in send_queue().jobs if job.func_name.endswith("purge_job")]


def test_the_command_purges_with_the_given_days(adjust_app, capsys):
    make(adjust_app, days_old=10)
    make(adjust_app, days_old=1)
    call_command("purge_old_deliveries", "--days", "5")
    assert "1 deliveries, 1 attempts and 0 order marks removed" in capsys.readouterr().out
    assert Delivery.objects.count() == 1
