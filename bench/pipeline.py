"""Events per second through the whole pipeline, against a bare requests.Session loop.

Both hit the same fast local receiver in the same run. The pipeline: validate, Delivery row,
enqueue after commit, a real SendWorker process, HTTP, Attempt row, final status.

    .venv/bin/python bench/pipeline.py [-n 2000] [--batch] [--workers 2]

Uses DATABASE_URL and REDIS_URL when set (a database named *_bench and the Redis db are wiped),
else a SQLite file under .run/ and an embedded Redis. The last line is `pipeline/bare ratio: X.XX`.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from events import embedded_redis  # noqa: E402
from tests.local_server import free_port  # noqa: E402

IDFA = "D2CADB5F-410F-4963-AC0C-2A78534BDF1E"
BODY = (
    "s2s=1&event_token=f0ob4r&app_token=4w565xzmb54d&idfa=" + IDFA + "&created_at_unix=1700000000"
    "&callback_params=%7B%22order%22%3A%2242%22%7D&environment=sandbox"
).encode()


def bare_rate(url: str, n: int) -> float:
    import requests

    session = requests.Session()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": "Bearer " + "x" * 32}
    for _ in range(50):  # warm-up
        session.post(url, data=BODY, headers=headers, timeout=5)
    started = time.perf_counter()
    for _ in range(n):
        response = session.post(url, data=BODY, headers=headers, timeout=5)
        assert response.status_code == 200
    return n / (time.perf_counter() - started)


def setup_django(base_url: str) -> None:
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ.setdefault("SECRETS_KEY", "bXlxsBLIH36pIUPZ6tYrF7b7mR0pV8wKc2XqHq5LQmA=")
    os.environ["DEBUG"] = "false"
    # The receiver stands in for the local emulator (plain http is only allowed there outside DEBUG,
    # and DEBUG would slow Django down by logging every query).
    os.environ["EMULATOR_ENABLED"] = "true"
    os.environ["ADJUST_BASE_URL"] = base_url + "/emulator/adjust"
    os.environ["TENJIN_BASE_URL"] = base_url + "/emulator/tenjin"
    os.environ["DJANGO_SETTINGS_MODULE"] = "s2sadmin.settings"
    database = os.environ.get("DATABASE_URL")
    if database:
        os.environ["DATABASE_URL"] = database.rstrip("/") + "_bench"
        _create_postgres_database(os.environ["DATABASE_URL"])
    else:
        path = ROOT / ".run" / "bench.sqlite3"
        for stale in path.parent.glob("bench.sqlite3*"):
            stale.unlink()
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _create_postgres_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def pipeline_rate(n: int) -> float:
    import django_rq
    from django.db import transaction

    from events.engine import create_delivery, enqueue_deliveries
    from events.models import App, Delivery, EventToken, Source, Status
    from events.providers import get_provider

    django_rq.get_connection("sends").flushdb()
    App.objects.all().delete()
    app = App.objects.create(name="bench", provider="adjust", platform="ios", app_key="4w565xzmb54d")
    token = EventToken.objects.create(app=app, name="Purchase", token="f0ob4r")
    app.security_tokens.create(label="bench", value="x" * 32)
    fields = {"device_ids": {"idfa": IDFA}, "callback_params": {"order": "42"}, "environment": "sandbox"}

    workers = [
        subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "rqworker", "sends", "--with-scheduler"],
            env=os.environ.copy(),
            stdout=subprocess.DEVNULL,
        )
        for _ in range(ARGS.workers)
    ]
    try:
        time.sleep(3)  # let the worker register and import everything
        started = time.perf_counter()
        if ARGS.batch:
            # What the API and bulk uploads do: validate each, one insert, batched enqueue.
            provider = get_provider(app)
            rows = []
            for _ in range(n):
                valid = provider.validate(app, token, fields)
                rows.append(Delivery(app=app, event_token=token, source=Source.API, params=valid.params,
                                     environment=valid.environment, device_id_type=valid.device_id_type,
                                     device_id=valid.device_id))  # fmt: skip
            with transaction.atomic():
                created = Delivery.objects.bulk_create(rows, batch_size=1000)
                ids = [row.pk for row in created]
                transaction.on_commit(lambda: enqueue_deliveries(ids))
        else:
            for _ in range(n):
                create_delivery(app, token, fields, source=Source.CLI)
        while True:
            done = Delivery.objects.filter(status=Status.DELIVERED).count()
            if done >= n:
                break
            if any(worker.poll() is not None for worker in workers):
                raise SystemExit("a worker died")
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(10)
    assert Delivery.objects.exclude(status=Status.DELIVERED).count() == 0
    return n / elapsed


def main() -> None:
    receiver_port = free_port()
    receiver = subprocess.Popen([sys.executable, str(ROOT / "bench" / "receiver.py"), str(receiver_port)])
    redis_server = None
    try:
        time.sleep(0.5)
        base_url = f"http://127.0.0.1:{receiver_port}"
        if not os.environ.get("REDIS_URL"):
            socket_path = ROOT / ".run" / "redis-bench.sock"
            redis_server = embedded_redis.start(socket_path)
            os.environ["REDIS_URL"] = embedded_redis.url_for(socket_path)
        setup_django(base_url)
        n = ARGS.n
        bare = bare_rate(base_url + "/emulator/adjust/event", n)
        piped = pipeline_rate(n)
        database = os.environ["DATABASE_URL"].split(":")[0]
        print(f"events: {n}  database: {database}  batch: {ARGS.batch}  workers: {ARGS.workers}")
        print(f"bare requests.Session loop: {bare:8.1f} events/s")
        print(f"whole pipeline:             {piped:8.1f} events/s")
        print(f"pipeline/bare ratio: {piped / bare:.2f}")
    finally:
        receiver.terminate()
        if redis_server:
            embedded_redis.stop(redis_server)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--batch", action="store_true", help="bulk insert + batched enqueue (API path)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default: one per core)")
    ARGS = parser.parse_args()
    main()
