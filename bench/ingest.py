"""Events accepted per second by POST /api/v1/events in batches of 1,000, against a bare baseline
measured in the same run: a bulk insert of the same Delivery rows (no HTTP, no validation, no
enqueue).

    .venv/bin/python bench/ingest.py [--batches 10]

Uses DATABASE_URL and REDIS_URL when set (a database named *_bench is recreated; the Redis db is
flushed), else a SQLite file under .run/ and an embedded Redis. Last line: `api/bare ratio: X.XX`.

The requests are made as HTTPS ones (the test client's `secure`), as in production behind TLS: with
DEBUG off the security middleware redirects plain http to https, and switching that off
(SERVED_OVER_HTTPS=false) would measure a configuration nobody runs.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import setup  # noqa: E402
from bench.processes import Children, stop_on_signals  # noqa: E402

IDFA = "D2CADB5F-410F-4963-AC0C-2A78534BDF1E"
BATCH = 1000


def main(batches: int, deadline: float) -> None:
    children = Children()
    stop_on_signals(children, deadline)
    try:
        setup.start_redis(children)
        os.environ.setdefault("ALLOWED_HOSTS", "testserver")
        setup.setup_django("http://127.0.0.1:9")  # nothing is sent: no worker runs in this benchmark
        run(batches)
    finally:
        children.stop_all()
        setup.remove_sqlite()


def run(batches: int) -> None:
    import django_rq
    from django.test import Client

    from events.api.keys import create_api_key
    from events.models import App, Delivery, EventToken
    from events.providers import get_provider

    django_rq.get_connection("sends").flushdb()
    app = App.objects.create(name="bench", provider="adjust", platform="ios", app_key="4w565xzmb54d")
    token = EventToken.objects.create(app=app, name="Purchase", token="f0ob4r")
    _, raw = create_api_key("bench", [app], rate_limit_per_minute=1_000_000)
    now = int(time.time())

    def batch(b: int) -> list[dict]:
        return [
            {"id": f"{b}-{i}", "app": "bench", "event": "f0ob4r", "device_ids": {"idfa": IDFA},
             "callback_params": {"order": str(i)}, "created_at": str(now - 60), "environment": "sandbox"}
            for i in range(BATCH)
        ]  # fmt: skip

    # Baseline: the same rows, built from an already-validated event, inserted in bulk.
    valid = get_provider(app).validate(
        app, token, {"device_ids": {"idfa": IDFA}, "callback_params": {"order": "1"}}
    )
    started = time.perf_counter()
    for b in range(batches):
        Delivery.objects.bulk_create(
            [Delivery(app=app, event_token=token, source="api", params=valid.params, environment="sandbox",
                      device_id_type="idfa", device_id=IDFA, idempotency_key=f"bare-{b}-{i}")
             for i in range(BATCH)],
            batch_size=500,
        )  # fmt: skip
    bare = batches * BATCH / (time.perf_counter() - started)

    client = Client()
    bodies = [json.dumps({"events": batch(b)}) for b in range(batches)]
    started = time.perf_counter()
    for body in bodies:
        response = client.post(
            "/api/v1/events",
            body,
            content_type="application/json",
            secure=True,
            HTTP_AUTHORIZATION=f"Bearer {raw}",
        )
        assert response.status_code == 202 and response.json()["accepted"] == BATCH, response.content[:300]
    api = batches * BATCH / (time.perf_counter() - started)
    queued = django_rq.get_queue("sends").count
    print(
        f"batches: {batches} x {BATCH}  database: {os.environ['DATABASE_URL'].split(':')[0]}  jobs queued: {queued}"
    )
    print(f"bare bulk insert:        {bare:9.1f} events/s")
    print(f"POST /api/v1/events:     {api:9.1f} events/s  (validate, insert, enqueue)")
    print(f"api/bare ratio: {api / bare:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--deadline", type=float, default=600, help="seconds the run may take (default 600)")
    arguments = parser.parse_args()
    main(arguments.batches, arguments.deadline)
