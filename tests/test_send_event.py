"""send_event: the same validation as every other way in; a bad event is named, saved nowhere,
queued nowhere."""

import pytest
from django.core.management import CommandError, call_command

from events.engine import send_queue
from events.models import Delivery
from tests.conftest import IDFA, TENJIN_ADVERTISING_ID, TENJIN_INSTALLATION_ID

pytestmark = pytest.mark.django_db

ADJUST_OK = ["--device", f"idfa={IDFA}"]
TENJIN_OK = [
    "--device", f"advertising_id={TENJIN_ADVERTISING_ID}",
    "--device", f"analytics_installation_id={TENJIN_INSTALLATION_ID}", "--set", "os_version=33",
]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--device", "idfa=d2cadb5f-410f-4963-ac0c-2a78534bdf1e"], "idfa"),
        (["--device", "gps_adid=660e1d86-6796-463a-be86-897993136018"], "gps_adid"),
        (["--device", "cookie=123"], "device_ids"),
        ([], "device_ids"),
        ([*ADJUST_OK, "--ip", "2001:db8::1"], "ip_address"),
        ([*ADJUST_OK, "--revenue", "0.0001", "--currency", "EUR"], "revenue"),
        ([*ADJUST_OK, "--revenue", "100000000001", "--currency", "EUR"], "revenue"),
        ([*ADJUST_OK, "--revenue", "5", "--currency", "EURO"], "currency"),
        ([*ADJUST_OK, "--revenue", "5"], "currency"),
        ([*ADJUST_OK, "--created-at", "2017-01-02T15:04:05Z+0200"], "created_at"),
        ([*ADJUST_OK, "--created-at", "yesterday"], "created_at"),
        ([*ADJUST_OK, "--set", 'callback_params={"a": {"nested": "x"}}'], "callback_params"),
        ([*ADJUST_OK, "--set", 'partner_params={"n": 1}'], "partner_params"),
        ([*ADJUST_OK, "--set", "os_verison=17"], "os_verison"),
    ],
)
def test_a_bad_adjust_event_is_refused_with_its_field_named_and_nothing_queued(
    adjust_app, redis_conn, args, field
):
    with pytest.raises(CommandError) as caught:
        call_command("send_event", adjust_app.name, "f0ob4r", *args)
    assert f"  {field}: " in str(caught.value)
    assert "The event was not sent" in str(caught.value)
    assert Delivery.objects.count() == 0
    assert send_queue().count == 0


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ([*TENJIN_OK, "--environment", "sandbox"], "environment"),
        ([*TENJIN_OK, "--set", "value=1.5"], "value"),
        ([*TENJIN_OK, "--created-at", "1700000000"], "created_at"),
        (TENJIN_OK[:4], "os_version"),
        (TENJIN_OK[2:], "advertising_id"),
    ],
)
def test_a_bad_tenjin_event_is_refused_with_its_field_named(tenjin_app, redis_conn, args, field):
    with pytest.raises(CommandError) as caught:
        call_command("send_event", tenjin_app.name, "level_up", *args)
    assert f"  {field}: " in str(caught.value)
    assert Delivery.objects.count() == 0


def test_a_tenjin_purchase_needs_its_purchase_fields(tenjin_app, redis_conn):
    with pytest.raises(CommandError) as caught:
        call_command("send_event", tenjin_app.name, "purchase", *TENJIN_OK, "--set", "quantity=0")
    for field in ("product_id", "quantity", "price", "currency"):
        assert f"  {field}: " in str(caught.value)


def test_an_unknown_app_lists_the_known_ones(adjust_app):
    with pytest.raises(CommandError, match=r"No app named 'Nope'\. Apps: 'Demo Adjust iOS'\."):
        call_command("send_event", "Nope", "f0ob4r", *ADJUST_OK)


def test_an_unknown_event_lists_the_apps_events(adjust_app):
    with pytest.raises(
        CommandError, match=r"'zzz' is not an event of this app\. Events of Demo Adjust iOS: "
    ):
        call_command("send_event", adjust_app.name, "zzz", *ADJUST_OK)


def test_an_event_can_be_named_by_its_readable_name(
    adjust_app, redis_conn, capsys, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_event", adjust_app.name, "Purchase", *ADJUST_OK)
    assert Delivery.objects.get().event_token.token == "f0ob4r"
    assert send_queue().count == 1


def test_the_same_idempotency_key_queues_the_event_once(
    adjust_app, redis_conn, capsys, django_capture_on_commit_callbacks
):
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            call_command("send_event", adjust_app.name, "f0ob4r", *ADJUST_OK, "--idempotency-key", "order-42")
    assert Delivery.objects.count() == 1
    assert send_queue().count == 1
    assert "Already queued with this idempotency key" in capsys.readouterr().out


def test_a_malformed_key_value_option_is_refused_by_argparse(adjust_app):
    with pytest.raises(CommandError, match="invalid key=value value: 'idfa'"):
        call_command("send_event", adjust_app.name, "f0ob4r", "--device", "idfa")


def test_it_warns_but_keeps_the_delivery_when_redis_is_unreachable(adjust_app, settings, capsys):
    settings.RQ_QUEUES = {**settings.RQ_QUEUES, "sends": {"URL": "redis://127.0.0.1:1/0"}}
    import django_rq.queues

    django_rq.queues.get_redis_connection.cache_clear() if hasattr(
        django_rq.queues.get_redis_connection, "cache_clear"
    ) else None
    call_command("send_event", adjust_app.name, "f0ob4r", *ADJUST_OK)
    err = capsys.readouterr().err
    assert Delivery.objects.get().status == "queued"
    assert "Redis is unreachable right now" in err
