"""/ready/ with each part down in turn, for real: no worker, a worker stopped, a worker without
RQ's scheduler, Redis at a port where nothing listens, and (in a gunicorn process of its own) a
database at a port where nothing listens. /health/ stays cheap: it answers whatever is down."""

import pytest
import requests
import rq

from tests.local_server import free_port
from tests.serving import gunicorn, rq_worker, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def ready(client) -> tuple[int, dict]:
    response = client.get("/ready/")
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json()


def ready_when(client, condition, seconds: float = 30) -> dict:
    def check():
        status, body = ready(client)
        return body if condition(status, body) else None

    return wait_until(check, seconds, f"/ready/ never got there; last answer: {ready(client)}")


def test_without_any_worker_it_is_not_ready_and_says_why(client, redis_conn):
    status, body = ready(client)
    assert status == 503
    assert body["status"] == "not ready"
    assert body["failed"] == ["workers", "scheduler"]
    assert body["checks"]["database"] == "ok" and body["checks"]["redis"] == "ok"
    assert "No live send worker" in body["checks"]["workers"]
    assert "--with-scheduler" in body["checks"]["scheduler"]
    # Liveness is another question: the process itself is fine.
    assert client.get("/health/").status_code == 200


def test_a_live_worker_with_its_scheduler_makes_it_ready_and_stopping_it_does_not(
    client, redis_conn, tmp_path
):
    with rq_worker(tmp_path / "worker.log", "sends") as worker:
        body = ready_when(client, lambda status, _: status == 200)
        assert body == {
            "status": "ready",
            "failed": [],
            "checks": {"database": "ok", "redis": "ok", "workers": "ok: 1 alive", "scheduler": "ok"},
        }
        # RQ registers the worker and takes the scheduler's lock before it installs its signal
        # handlers; a SIGTERM in between kills it unannounced (then it counts until its TTL).
        # Stopped as a supervisor would stop a running worker: once it waits for work.
        wait_until(lambda: idle_worker(redis_conn), 30, "the worker never waited for work")
    assert worker.returncode is not None
    # A stopped worker signs off and releases the scheduler's lock: not ready at once.
    status, body = ready(client)
    assert status == 503
    assert body["failed"] == ["workers", "scheduler"]


def idle_worker(connection) -> bool:
    # Read through RQ's registry of workers: a key pattern such as rq:worker:* also matches
    # rq:worker:<name>:executions, the sorted set of the jobs a worker is running.
    return any(worker.get_state() == "idle" for worker in rq.Worker.all(connection=connection))


def test_a_worker_without_the_scheduler_is_not_enough(client, redis_conn, tmp_path):
    with rq_worker(tmp_path / "worker.log", "sends", scheduler=False):
        body = ready_when(client, lambda _, body: body["checks"]["workers"].startswith("ok"))
        assert body["failed"] == ["scheduler"]
        assert "retries would never go out" in body["checks"]["scheduler"]


def test_with_redis_unreachable_it_names_redis(client, settings, redis_conn):
    url = f"redis://127.0.0.1:{free_port()}/0"
    settings.RQ_QUEUES = {name: {**queue, "URL": url} for name, queue in settings.RQ_QUEUES.items()}
    status, body = ready(client)
    assert status == 503
    assert body["failed"] == ["redis"]
    assert body["checks"]["redis"].startswith("Redis is unreachable")
    assert body["checks"]["workers"] == "not checked: Redis is unreachable"
    assert client.get("/health/").status_code == 200


def test_with_the_database_unreachable_it_names_the_database(redis_conn, tmp_path):
    """gunicorn on a DATABASE_URL where nothing listens, beside a live worker on the real one."""
    unreachable = f"postgres://postgres@127.0.0.1:{free_port()}/s2sadmin"
    with (
        rq_worker(tmp_path / "worker.log", "sends"),
        gunicorn(tmp_path / "gunicorn.log", DATABASE_URL=unreachable) as url,
    ):

        def answer():
            response = requests.get(f"{url}/ready/", timeout=10)
            body = response.json()
            return (
                (response.status_code, body) if body["checks"].get("workers", "").startswith("ok") else None
            )

        status, body = wait_until(answer, 30, "the worker never showed as alive")
        assert status == 503
        assert body["failed"] == ["database"]
        assert body["checks"]["database"].startswith("The database is unreachable")
        assert body["checks"]["redis"] == body["checks"]["scheduler"] == "ok"
        assert requests.get(f"{url}/health/", timeout=10).status_code == 200
