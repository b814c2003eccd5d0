"""After a full run of sends (delivered, rejected, retried, network errors), no secret value can be
read anywhere s2sadmin writes: the database, the export, the logs, Redis, or error text."""

import base64
import json
import logging
import pickle
import zlib
from urllib.parse import quote

import django_rq
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
    """Every key of every type, each value also as it decodes: RQ keeps job data, results and
    exception text zlib-compressed, pickled and base64-encoded (job hashes, result streams)."""
    chunks = []
    for key in redis_conn.scan_iter():
        kind = redis_conn.type(key)
        chunks.append(repr(key))
        if kind == b"string":
            values = [redis_conn.get(key)]
        elif kind == b"hash":
            values = [item for pair in redis_conn.hgetall(key).items() for item in pair]
        elif kind == b"list":
            values = redis_conn.lrange(key, 0, -1)
        elif kind == b"zset":
            values = redis_conn.zrange(key, 0, -1)
        elif kind == b"set":
            values = list(redis_conn.smembers(key))
        elif kind == b"stream":
            values = [
                item for _, fields in redis_conn.xrange(key) for pair in fields.items() for item in pair
            ]
        else:  # a type this sweep cannot read would hide whatever it holds
            raise AssertionError(f"Redis key {key!r} has the type {kind!r}, which the sweep does not read")
        chunks.extend(text for value in values for text in decoded(value))
    return "\n".join(chunks)


def decoded(value, depth: int = 0) -> list[str]:
    """The value as stored, and as it reads once unzipped, unpickled or base64-decoded (nested)."""
    forms = [repr(value)]
    if not isinstance(value, bytes) or depth > 3:
        return forms
    forms.append(value.decode("utf-8", "replace"))
    for decode in (zlib.decompress, _base64, _unpickle):
        try:
            inner = decode(value)
        except Exception:  # noqa: S112 - not in this encoding; the others are tried
            continue
        forms.extend(decoded(inner, depth + 1) if isinstance(inner, bytes) else [repr(inner)])
    return forms


def _base64(value: bytes) -> bytes:
    return base64.b64decode(value, validate=True)


def _unpickle(value: bytes):
    return pickle.loads(value)  # noqa: S301 - the test's own Redis, written by its own jobs


def secret_forms(secrets: list[str]) -> list[str]:
    """Each secret as it may travel: raw, URL-encoded, and base64 as in Tenjin's Basic auth."""
    forms = []
    for secret in secrets:
        forms += [secret, quote(secret, safe=""), base64.b64encode(f"{secret}:".encode()).decode()]
        forms.append(base64.b64encode(secret.encode()).decode())
    return forms


def assert_no_secret(text: str, where: str, secrets: list[str]) -> None:
    for secret in secret_forms(secrets):
        assert secret not in text, f"a secret (a form ending in {secret[-4:]}) is readable in {where}"


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


# --- The sweep itself sees what a job returned or raised ----------------------------------------


def return_the_secret(secret: str) -> str:
    return secret


def raise_the_secret(secret: str) -> None:
    raise RuntimeError(f"failed with {secret}")


@pytest.mark.parametrize("job", [return_the_secret, raise_the_secret])
def test_the_redis_sweep_finds_a_secret_a_job_returned_or_raised(redis_conn, job):
    queue = django_rq.get_queue("default")
    queue.enqueue(job, TENJIN_SDK_KEY, result_ttl=600, failure_ttl=600)
    django_rq.get_worker("default").work(burst=True)
    queue.connection.delete(*queue.connection.keys("rq:job:*"))  # only the result stream keeps it now
    with pytest.raises(AssertionError, match="readable in Redis"):
        assert_no_secret(dump_redis(redis_conn), "Redis", [TENJIN_SDK_KEY])


def test_the_sweep_looks_for_the_base64_basic_auth_form_of_a_key():
    header = base64.b64encode(f"{TENJIN_SDK_KEY}:".encode()).decode()
    with pytest.raises(AssertionError, match="readable in a log"):
        assert_no_secret(f"Authorization: Basic {header}", "a log", [TENJIN_SDK_KEY])
