"""Adjust's order and age rules, enforced before an event goes out: at create time, for a batch,
for a resend, and again in the send job (a retry can cross 58 days, a newer event can be accepted
meanwhile). Real database, real worker, the emulator over a socket."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events.engine import create_delivery, order_guard, resend_delivery
from events.models import Delivery, OrderMark, Source, Status
from events.providers import EventInvalid
from tests.conftest import (
    IDFA,
    TENJIN_ADVERTISING_ID,
    TENJIN_INSTALLATION_ID,
    run_worker,
)

pytestmark = pytest.mark.django_db(transaction=True)


def at(minutes_ago: float) -> str:
    return str(int((timezone.now() - timedelta(minutes=minutes_ago)).timestamp()))


def send(app, created_at: str, *, token: str = "f0ob4r", idfa: str = IDFA) -> Delivery:
    fields = {"device_ids": {"idfa": idfa}, "created_at": created_at}
    delivery, _ = create_delivery(app, app.event_tokens.get(token=token), fields, source=Source.CLI)
    return delivery


def mark_of(app, token="f0ob4r", device=IDFA) -> datetime:
    return OrderMark.objects.get(app=app, event_token__token=token, device_id=device).newest_event_time


def test_a_delivered_adjust_event_moves_the_mark_to_its_time(adjust):
    created_at = at(10)
    send(adjust, created_at)
    run_worker()
    assert mark_of(adjust) == datetime.fromtimestamp(int(created_at), UTC)
    newer = at(3)
    send(adjust, newer)
    run_worker()
    assert mark_of(adjust) == datetime.fromtimestamp(int(newer), UTC)


def test_an_event_older_than_one_adjust_accepted_is_refused_with_the_reason(adjust):
    send(adjust, at(5))
    run_worker()
    with pytest.raises(EventInvalid) as refused:
        send(adjust, at(30))
    (message,) = refused.value.errors["created_at"]
    assert "before an event Adjust already accepted for this device and event token" in message
    assert "send the older events first" in message
    assert Delivery.objects.count() == 1


def test_an_equal_time_and_a_newer_time_pass(adjust):
    accepted = at(5)  # one value, so the second event's time is equal, not a second later
    send(adjust, accepted)
    run_worker()
    assert mark_of(adjust) == datetime.fromtimestamp(int(accepted), UTC)
    equal, newer = send(adjust, accepted), send(adjust, at(1))
    assert (equal.status, newer.status) == (Status.QUEUED, Status.QUEUED)
    assert Delivery.objects.count() == 3


def test_the_mark_is_per_device_and_per_event_token(adjust):
    send(adjust, at(5))
    run_worker()
    with pytest.raises(EventInvalid):  # the same device and token: older than the mark
        send(adjust, at(30))
    other_token = send(adjust, at(30), token="2y7e81")
    other_device = send(adjust, at(30), idfa="AEBE52E7-03EE-455A-B3C4-E57283966239")
    assert (other_token.status, other_device.status) == (Status.QUEUED, Status.QUEUED)
    assert Delivery.objects.count() == 3


def test_a_refused_or_failed_attempt_does_not_move_the_mark(adjust, emulator):
    emulator.script_faults(["500", "pass"])
    emulator.set_faults(provider="adjust")
    from events.emulator.models import EmuAdjustEventToken

    EmuAdjustEventToken.objects.filter(token="2y7e81").delete()
    send(adjust, at(5), token="2y7e81")
    run_worker()
    assert not OrderMark.objects.exists()


def test_a_tenjin_event_is_never_refused_for_order(tenjin_app):
    fields = {
        "device_ids": {
            "advertising_id": TENJIN_ADVERTISING_ID,
            "analytics_installation_id": TENJIN_INSTALLATION_ID,
        },
        "os_version": "33",
    }
    event = tenjin_app.event_tokens.get(token="level_up")
    delivery, _ = create_delivery(tenjin_app, event, fields, source=Source.CLI)
    assert order_guard.candidate_of(delivery) is None


def test_a_resend_of_an_event_older_than_58_days_is_refused(adjust):
    original = send(adjust, at(60))
    Delivery.objects.filter(pk=original.pk).update(
        params={**original.params, "created_at_unix": at(58 * 24 * 60 + 5)}
    )
    original.refresh_from_db()
    with pytest.raises(EventInvalid) as refused:
        resend_delivery(original)
    assert "Adjust rejects events older than 58 days" in refused.value.errors["created_at"][0]


def test_a_resend_after_a_newer_event_was_accepted_is_refused(adjust):
    original = send(adjust, at(30))
    send(adjust, at(5))
    Delivery.objects.filter(pk=original.pk).update(status=Status.FAILED)
    run_worker()  # only the newer one is due: the older one is failed
    with pytest.raises(EventInvalid, match="already accepted"):
        resend_delivery(original)


def test_a_resend_of_the_newest_accepted_event_passes(adjust):
    original = send(adjust, at(5))
    run_worker()
    assert resend_delivery(original).status == Status.QUEUED


def test_check_many_refuses_what_adjust_would_and_what_comes_out_of_order_within_the_batch(adjust):
    send(adjust, at(10))
    run_worker()
    event = adjust.event_tokens.get(token="f0ob4r")
    now = timezone.now()

    def candidate(minutes_ago, idfa=IDFA):
        return order_guard.candidate(adjust, event, idfa, now - timedelta(minutes=minutes_ago))

    batch = [candidate(20), candidate(4), candidate(6), candidate(2), None, candidate(59 * 24 * 60, "OTHER")]
    reasons = order_guard.check_many(batch, now=now)
    assert reasons[0] and "already accepted" in reasons[0]
    assert reasons[1] is None
    assert reasons[2] and "an earlier event of this batch" in reasons[2]
    assert reasons[3] is None and reasons[4] is None
    assert reasons[5] and "older than 58 days" in reasons[5]


def test_check_many_reads_the_marks_in_one_query_per_500_events(adjust):
    event = adjust.event_tokens.get(token="f0ob4r")
    now = timezone.now()
    batch = [order_guard.candidate(adjust, event, f"DEVICE-{i}", now) for i in range(1200)]
    with CaptureQueriesContext(connection) as queries:
        assert order_guard.check_many(batch, now=now) == [None] * 1200
    assert len(queries) == 3


def test_the_job_fails_without_sending_an_event_overtaken_while_it_waited(adjust, emulator):
    older = send(adjust, at(30))
    # Meanwhile Adjust accepted a newer event of this device and token (sent by another system
    # with the same app token, or resent by hand from Adjust's dashboard).
    OrderMark.objects.create(
        app=adjust, event_token=adjust.event_tokens.get(token="f0ob4r"), device_id=IDFA,
        newest_event_time=datetime.fromtimestamp(int(at(5)), UTC),
    )  # fmt: skip
    run_worker()
    older.refresh_from_db()
    assert older.status == Status.FAILED
    assert "already accepted" in older.last_explanation and older.last_explanation.endswith("Not sent.")
    assert older.attempts.count() == 0
    assert len(emulator.recorded_events()) == 0


def test_a_newer_event_waits_while_an_older_one_of_its_device_and_token_is_retrying(adjust, emulator):
    older = send(adjust, at(30))
    newer = send(adjust, at(5))
    Delivery.objects.filter(pk=older.pk).update(
        status=Status.RETRYING, next_attempt_at=timezone.now() + timedelta(hours=1)
    )
    run_worker()
    newer.refresh_from_db()
    assert newer.status == Status.QUEUED, "held back: sending it first would make Adjust refuse the older"
    Delivery.objects.filter(pk=older.pk).update(next_attempt_at=timezone.now())
    from events.engine import enqueue_deliveries

    enqueue_deliveries([older.pk])
    run_worker()
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.status, newer.status) == (Status.DELIVERED, Status.DELIVERED)
    assert [e.event_at for e in emulator.recorded_events()] == sorted(
        e.event_at for e in emulator.recorded_events()
    )


def test_the_job_fails_a_retry_that_crossed_58_days_without_sending_it(adjust, emulator):
    delivery = send(adjust, at(10))
    old = at(58 * 24 * 60 + 1)
    Delivery.objects.filter(pk=delivery.pk).update(params={**delivery.params, "created_at_unix": old})
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    assert "older than 58 days" in delivery.last_explanation
    assert emulator.recorded_events().count() == 0


def test_one_devices_events_queued_newest_first_go_out_oldest_first(adjust, emulator, settings):
    settings.SEND_BATCH_SIZE = 10
    from django.db import transaction

    newest, oldest, middle = at(5), at(30), at(20)
    with transaction.atomic():  # one transaction: one job for the three, in this order
        queued = [send(adjust, newest), send(adjust, oldest), send(adjust, middle)]
    run_worker()
    assert {d.status for d in Delivery.objects.filter(pk__in=[d.pk for d in queued])} == {Status.DELIVERED}
    times = [str(int(e.event_at.timestamp())) for e in emulator.recorded_events()]
    assert times == [oldest, middle, newest]


def test_a_batch_moves_each_mark_forward_only_in_one_statement(adjust):
    token = adjust.event_tokens.get(token="f0ob4r")
    base = datetime(2026, 11, 30, 4, 5, 6, 789012, tzinfo=UTC)

    def accepted(device: str, seconds: float) -> order_guard.Candidate:
        return order_guard.Candidate(adjust.pk, token.pk, device, base + timedelta(seconds=seconds))

    with CaptureQueriesContext(connection) as queries:
        order_guard.record_accepted_many([accepted("a", 0), accepted("b", 0), accepted("a", 5), None])
    assert len(queries) == 1
    assert (mark_of(adjust, device="a"), mark_of(adjust, device="b")) == (
        base + timedelta(seconds=5),
        base,
    )
    # An older time (a concurrent sender wrote a newer one first) leaves its mark alone.
    order_guard.record_accepted_many([accepted("a", 1), accepted("b", 7), accepted('c\'s "quoted" é', 2)])
    assert mark_of(adjust, device="a") == base + timedelta(seconds=5)
    assert mark_of(adjust, device="b") == base + timedelta(seconds=7)
    assert mark_of(adjust, device='c\'s "quoted" é') == base + timedelta(seconds=2)
