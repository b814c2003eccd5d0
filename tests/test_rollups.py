"""The hourly rollups against a recount of the rows: a real RQ worker sends to the emulator with
retries, give-ups, permanent failures, a refusal and test traffic; the rollups must then say what
the deliveries and attempts say, and keep saying it after the retention purge removes them."""

import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.utils import timezone

from events.engine import create_delivery, retention
from events.models import FINAL_STATUSES, Attempt, Delivery, Source, Status
from events.reporting import figures, rollups
from events.reporting.models import LatencyRollup, OutcomeRollup
from tests.conftest import IDFA, TENJIN_ADVERTISING_ID, TENJIN_INSTALLATION_ID, run_worker

pytestmark = pytest.mark.django_db(transaction=True)


def queue(app, token, source=Source.CLI, **fields):
    delivery, _ = create_delivery(app, app.event_tokens.get(token=token), fields, source=source)
    return delivery


def recount() -> dict[str, Counter]:
    """The figures as the rows tell them: deliveries by final status, attempts, latencies."""
    finals = Delivery.objects.filter(status__in=FINAL_STATUSES).select_related("app")
    attempts = Attempt.objects.exclude(finished_at=None).select_related("delivery__app")
    return {
        "deliveries": Counter((rollups.hour_of(d.created_at), d.app_id, d.is_test, d.status) for d in finals),
        "reasons": Counter(d.last_message for d in finals if d.status != Status.DELIVERED),
        "attempts": Counter((a.delivery.app_id, a.delivery.is_test) for a in attempts),
        "latency": Counter(
            (a.delivery.app_id, rollups.bucket_of(a.duration_ms))
            for a in attempts
            if a.duration_ms is not None
        ),
    }


def rolled_up() -> dict[str, Counter]:
    deliveries, reasons, attempts, latency = Counter(), Counter(), Counter(), Counter()
    for row in OutcomeRollup.objects.all():
        if row.deliveries:
            deliveries[(row.hour, row.app_id, row.test, row.status)] += row.deliveries
            if row.status != Status.DELIVERED:
                reasons[row.reason] += row.deliveries
        if row.attempts:
            attempts[(row.app_id, row.test)] += row.attempts
    for row in LatencyRollup.objects.all():
        latency[(row.app_id, row.bucket)] += row.attempts
    return {"deliveries": deliveries, "reasons": reasons, "attempts": attempts, "latency": latency}


def test_the_rollups_match_a_recount_after_retries_failures_and_a_purge(emulator, adjust, tenjin, settings):
    settings.SEND_BACKOFF = [0, 0]  # three attempts at most, at once
    # Thirteen 500s over six Adjust deliveries of three attempts each: whatever order the worker
    # takes them in, one at least gets three and is given up on (dead), others are retried.
    emulator.script_faults(["500"] * 13, provider="adjust")
    for _ in range(4):
        queue(adjust, "f0ob4r", device_ids={"idfa": IDFA})
    queue(adjust, "f0ob4r", source=Source.FORM, device_ids={"idfa": IDFA})  # test traffic
    queue(adjust, "2y7e81", device_ids={"idfa": IDFA})
    from events.emulator.models import EmuAdjustEventToken

    EmuAdjustEventToken.objects.filter(token="2y7e81").delete()  # a permanent 400
    tenjin_ids = {
        "advertising_id": TENJIN_ADVERTISING_ID,
        "analytics_installation_id": TENJIN_INSTALLATION_ID,
    }
    queue(tenjin, "level_up", device_ids=tenjin_ids, os_version="33")
    run_worker()
    refused = queue(tenjin, "level_up", device_ids=tenjin_ids, os_version="33")
    tenjin.active = False  # finished without an attempt
    tenjin.save()
    run_worker()

    statuses = Counter(Delivery.objects.values_list("status", flat=True))
    assert statuses[Status.DEAD] >= 1 and statuses[Status.FAILED] >= 1 and statuses[Status.DELIVERED] >= 1
    assert Attempt.objects.count() >= 13 + 1  # the retries, and the Tenjin delivery
    assert Delivery.objects.get(pk=refused.pk).attempts.count() == 0
    before = recount()
    assert rolled_up() == before
    call_command("rebuild_rollups", "--days", "1", stdout=io.StringIO())  # as after an upgrade
    assert rolled_up() == before
    overall = figures.report(figures.preset("24h", timezone.now())).overall
    assert overall.sends == Delivery.objects.count()

    purged = retention.purge(days=0)  # every final delivery goes, with its attempts
    assert purged.deliveries == 8 and Delivery.objects.count() == 0
    assert rolled_up() == before  # the figures outlive the rows
    after = figures.report(figures.preset("24h", timezone.now())).overall
    assert (after.sends, after.delivered, after.failed, after.latency) == (
        overall.sends,
        overall.delivered,
        overall.failed,
        overall.latency,
    )


def test_a_batch_is_one_upsert_adding_to_existing_rows(adjust_app):
    now = timezone.now()
    step = rollups.Finished(adjust_app.pk, "adjust", False, now, "delivered", sent=True, duration_ms=90)
    failed = rollups.Finished(adjust_app.pk, "adjust", False, now, "failed", reason="x" * 300, duration_ms=90)
    rollups.record_attempts([step, step, failed])
    rollups.record_attempts([step])
    delivered = OutcomeRollup.objects.get(status="delivered")
    assert (delivered.hour, delivered.deliveries, delivered.attempts) == (rollups.hour_of(now), 3, 3)
    assert OutcomeRollup.objects.get(status="failed").reason == "x" * rollups.REASON_LENGTH
    assert LatencyRollup.objects.get().attempts == 4
