"""What the benchmarks share: their own database and Redis, the receiver, the bare client, the
workers, and events spread over many devices and event tokens as real traffic is.

DATABASE_URL and REDIS_URL are used when set (a database named *_bench is recreated; the Redis db
is flushed); otherwise a SQLite file under .run/ and an embedded Redis, both private to this run.
"""

import os
import socket
import subprocess
import sys
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

from bench.processes import Children, wait_for

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEVICES = 1000
EVENT_TOKENS = ("f0ob4r", "2y7e81", "k5m8q2")
APP_TOKEN = "4w565xzmb54d"
SECURITY_TOKEN = "x" * 32
RUN = os.getpid()
# The workers' output, kept when a run gets stuck and removed otherwise.
WORKER_LOGS: list[Path] = []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_redis(children: Children) -> None:
    """The embedded Redis unless REDIS_URL is set; the children stop it with everything else."""
    if os.environ.get("REDIS_URL"):
        return
    from events import embedded_redis

    socket_path = ROOT / ".run" / f"redis-bench-{RUN}.sock"
    children.adopt("redis-server", embedded_redis.start(socket_path))
    os.environ["REDIS_URL"] = embedded_redis.url_for(socket_path)


def start_receiver(children: Children, latency_ms: float) -> str:
    port = free_port()
    name = f"receiver ({latency_ms:g} ms)"
    children.start(name, [PYTHON, str(ROOT / "bench" / "receiver.py"), str(port), str(latency_ms)])

    def listening() -> bool:
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", port)) == 0

    wait_for(listening, f"the {name} to listen", timeout=10)
    return f"http://127.0.0.1:{port}"


def setup_django(base_url: str, *, recreate: bool = True) -> None:
    """Django on the bench database: recreated unless `recreate` is false (a kept one measured again)."""
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ.setdefault("SECRETS_KEY", "bXlxsBLIH36pIUPZ6tYrF7b7mR0pV8wKc2XqHq5LQmA=")
    os.environ["DEBUG"] = "false"
    os.environ["S2S_IGNORE_DOTENV"] = "1"  # a demo's .env must not change what is measured
    # The receiver stands in for the local emulator (plain http is only allowed there outside DEBUG,
    # and DEBUG would slow Django down by logging every query).
    os.environ["EMULATOR_ENABLED"] = "true"
    point_at(base_url)
    os.environ["DJANGO_SETTINGS_MODULE"] = "s2sadmin.settings"
    database = os.environ.get("DATABASE_URL")
    if database:
        os.environ["DATABASE_URL"] = database.rstrip("/") + "_bench"
        if recreate:
            _create_postgres_database(os.environ["DATABASE_URL"])
    else:
        path = ROOT / ".run" / f"bench-{RUN}.sqlite3"
        path.parent.mkdir(exist_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    import django
    from django.core.management import call_command

    # A fresh clone has not run collectstatic, and no benchmark serves a static file.
    warnings.filterwarnings("ignore", message="No directory at")
    django.setup()
    call_command("migrate", verbosity=0)


def point_at(base_url: str) -> None:
    """Where workers started from now on send (they read it at start)."""
    os.environ["ADJUST_BASE_URL"] = base_url + "/emulator/adjust"
    os.environ["TENJIN_BASE_URL"] = base_url + "/emulator/tenjin"


def remove_sqlite() -> None:
    for path in (ROOT / ".run").glob(f"bench-{RUN}.sqlite3*"):
        path.unlink()


def _create_postgres_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def database_name() -> str:
    return os.environ["DATABASE_URL"].split(":")[0]


def send_concurrency() -> int:
    """The engine's requests in flight per worker (SEND_CONCURRENCY; 64 until the engine has it)."""
    from django.conf import settings

    return int(getattr(settings, "SEND_CONCURRENCY", 64))


def bare_rate(children: Children, url: str, n: int, connections: int, processes: int) -> float:
    """Events/s of `processes` bare clients sending n requests in all, started together."""
    shares = [n // processes + (1 if i < n % processes else 0) for i in range(processes)]
    clients = [
        children.start(
            f"bare client {i + 1}",
            [PYTHON, str(ROOT / "bench" / "bare.py"), url, str(share), str(connections)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i, share in enumerate(shares)
    ]
    try:
        for client in clients:
            if client.stdout.readline().strip() != "ready":
                raise RuntimeError(f"a bare client failed to start (exit code {client.wait()})")
        started = time.perf_counter()
        for client in clients:
            client.stdin.write("go\n")
            client.stdin.flush()
        for client in clients:
            client.stdout.read()
            if client.wait() != 0:
                raise RuntimeError(f"a bare client failed (exit code {client.returncode})")
        return n / (time.perf_counter() - started)
    finally:
        for client in clients:
            children.stop(client)


def start_workers(children: Children, count: int, log_name: str) -> list[subprocess.Popen]:
    import django_rq
    from rq import Worker

    queue = django_rq.get_queue("sends")
    before = Worker.count(queue=queue)
    workers = []
    for i in range(count):
        path = ROOT / ".run" / f"bench-{RUN}-{log_name}-{i + 1}.log"
        path.parent.mkdir(exist_ok=True)  # a fresh clone on PostgreSQL has no .run/ yet
        WORKER_LOGS.append(path)
        log = open(path, "w")  # noqa: SIM115  (the worker writes to it until it is stopped)
        workers.append(
            children.start(
                f"worker {i + 1}",
                [PYTHON, str(ROOT / "manage.py"), "rqworker", "sends", "--with-scheduler"],
                env=os.environ.copy(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    wait_for(lambda: Worker.count(queue=queue) >= before + count, "the workers to register", timeout=60)
    return workers


def fresh_app():
    """A new Adjust app with its tokens; the previous run's rows go with the old one."""
    import django_rq

    from events.models import App, Attempt, Delivery, EventToken

    django_rq.get_connection("sends").flushdb()
    Attempt.objects.all().delete()
    Delivery.objects.all().delete()  # protects its app: first
    App.objects.all().delete()
    app = App.objects.create(name="bench", provider="adjust", platform="ios", app_key=APP_TOKEN)
    for token in EVENT_TOKENS:
        EventToken.objects.create(app=app, name=f"Event {token}", token=token)
    app.security_tokens.create(label="bench", value=SECURITY_TOKEN)
    return app


def device_idfa(device: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench-device-{device}")).upper()


def events(app, first: int, count: int) -> Iterator[tuple[object, dict]]:
    """Event i goes to device i mod DEVICES with the event token (i // DEVICES) mod 3: every
    (device, token) key is used once before any repeats, then again in the same order."""
    tokens = {token.token: token for token in app.event_tokens.all()}
    for i in range(first, first + count):
        token = tokens[EVENT_TOKENS[(i // DEVICES) % len(EVENT_TOKENS)]]
        fields = {
            "device_ids": {"idfa": device_idfa(i % DEVICES)},
            "callback_params": {"order": str(i)},
            "environment": "sandbox",
        }
        yield token, fields


def insert_batch(app, first: int, count: int) -> None:
    """What the API and bulk uploads do: validate each, one insert, enqueue after commit."""
    from django.db import transaction

    from events.engine import enqueue_deliveries, new_delivery
    from events.models import Delivery, Source
    from events.providers import get_provider

    provider = get_provider(app)
    rows = [
        new_delivery(app, token, provider.validate(app, token, fields), source=Source.API)
        for token, fields in events(app, first, count)
    ]
    with transaction.atomic():
        ids = [row.pk for row in Delivery.objects.bulk_create(rows, batch_size=1000)]
        transaction.on_commit(lambda: enqueue_deliveries(ids))


def insert_one_by_one(app, first: int, count: int) -> None:
    """What the test form and send_event do: create_delivery per event."""
    from events.engine import create_delivery
    from events.models import Source

    for token, fields in events(app, first, count):
        create_delivery(app, token, fields, source=Source.CLI)
