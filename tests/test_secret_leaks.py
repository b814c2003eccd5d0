"""After a full run of sends (delivered, rejected, retried, network errors), no secret value can be
read anywhere s2sadmin writes: the database, the export, the logs, Redis, or error text."""

import json
import logging

import pytest
from django.core.management import call_command
from django.db import connection

from events.engine import create_delivery
from events.models import Source
from tests.conftest import (
    ADJUST_SECURITY_TOKEN,
    IDFA,
    TENJIN_ADVERTISING_ID,
    TENJIN_INSTALLATION_ID,
    TENJIN_SDK_KEY,
    run_worker,
)
from tests.local_server import free_port

pytestmark = pytest.mark.django_db(transaction=True)


def dump_database() -> str:
    """Every row of every table, as text."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            if table.startswith("emulator_"):
                continue  # the emulated MMP's own registry holds the tokens it checks against
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608
            chunks.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(chunks)


def dump_redis(redis_conn) -> str:
    chunks = []
    for key in redis_conn.scan_iter():
        kind = redis_conn.type(key)
        chunks.append(repr(key))
        if kind == b"string":
            chunks.append(repr(redis_conn.get(key)))
        elif kind == b"hash":
            chunks.append(repr(redis_conn.hgetall(key)))
        elif kind == b"list":
            chunks.append(repr(redis_conn.lrange(key, 0, -1)))
        elif kind == b"zset":
            chunks.append(repr(redis_conn.zrange(key, 0, -1)))
        elif kind == b"set":
            chunks.append(repr(redis_conn.smembers(key)))
    return "\n".join(chunks)


def assert_no_secret(text: str, where: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in text, f"a secret ending in {secret[-4:]} is readable in {where}"


def test_no_secret_is_readable_after_a_full_run(
    emulator, adjust_app, adjust_security_token, tenjin_app, caplog, capsys, redis_conn, settings
):
    caplog.set_level(logging.DEBUG)
    secrets = [adjust_app.app_key, ADJUST_SECURITY_TOKEN, TENJIN_SDK_KEY]
    emulator.register_adjust_app(
        adjust_app.app_key,
        event_tokens=["f0ob4r"],
        security_tokens=[ADJUST_SECURITY_TOKEN],
        auth_enabled=True,
    )
    emulator.register_tenjin_app(tenjin_app.bundle_id, tenjin_app.platform, sdk_keys=[TENJIN_SDK_KEY])
    adjust_event = adjust_app.event_tokens.get(token="f0ob4r")
    rejected_event = adjust_app.event_tokens.get(token="2y7e81")  # unknown to the emulated Adjust
    tenjin_event = tenjin_app.event_tokens.get(token="level_up")
    tenjin_fields = {
        "device_ids": {
            "advertising_id": TENJIN_ADVERTISING_ID,
            "analytics_installation_id": TENJIN_INSTALLATION_ID,
        },
        "os_version": "33",
    }

    emulator.script_faults(["500", "pass"])
    create_delivery(adjust_app, adjust_event, {"device_ids": {"idfa": IDFA}}, source=Source.CLI)
    create_delivery(adjust_app, rejected_event, {"device_ids": {"idfa": IDFA}}, source=Source.CLI)
    create_delivery(tenjin_app, tenjin_event, tenjin_fields, source=Source.CLI)
    run_worker()

    # A network error: the exception text must not carry the secrets either.
    settings.TENJIN_BASE_URL = f"http://127.0.0.1:{free_port()}/emulator/tenjin"
    settings.SEND_BACKOFF = [600]
    create_delivery(tenjin_app, tenjin_event, tenjin_fields, source=Source.CLI)
    run_worker()

    call_command("export_config")
    call_command("send_event", adjust_app.name, "f0ob4r", "--device", f"idfa={IDFA}")

    from events.models import Attempt

    assert Attempt.objects.filter(response_status=200).count() == 2
    assert Attempt.objects.filter(response_status=400).count() == 1
    assert Attempt.objects.exclude(error="").count() == 1
    assert_no_secret(dump_database(), "the database", secrets)
    assert_no_secret(capsys.readouterr().out, "the export and command output", secrets)
    assert_no_secret(caplog.text, "the logs", secrets)
    assert_no_secret(dump_redis(redis_conn), "Redis", secrets)
    assert_no_secret(
        json.dumps(list(Attempt.objects.values("error", "mmp_message", "explanation"))), "error text", secrets
    )
