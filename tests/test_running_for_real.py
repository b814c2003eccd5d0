"""The README's "Running for real", run as written: migrate, collectstatic, a worker
(`manage.py rqworker sends callbacks default --with-scheduler`, the project's SendWorker) and
gunicorn, against the tests' database and Redis (PostgreSQL and Redis in CI). Then /ready/ answers
200, an event sent through the API reaches the MMP (the emulator, served by that same gunicorn),
its result comes back with SKAN values and as a signed callback, and /metrics shows it."""

import subprocess
import sys

import pytest
import requests
from django.conf import settings
from prometheus_client.parser import text_string_to_metric_families

from events.api.keys import create_api_key
from events.callbacks import signing
from events.callbacks.models import CallbackEndpoint
from events.emulator import registry
from tests.conftest import IDFA
from tests.local_server import LocalServer, free_port
from tests.serving import gunicorn, rq_worker, serving_env, wait_until
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db(transaction=True)

METRICS_TOKEN = "for-real-metrics-token-0123"


def manage(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_readme_running_for_real_serves_sends_and_shows_it(adjust, redis_conn, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        # What the README exports, besides DATABASE_URL and REDIS_URL (the tests' own, inherited).
        "STATIC_ROOT": str(tmp_path / "static"),
        "STATICFILES_STORAGE": "whitenoise.storage.CompressedManifestStaticFilesStorage",
        "METRICS_TOKEN": METRICS_TOKEN,
        "EMULATOR_ENABLED": "true",
        "ADJUST_BASE_URL": f"{base}/emulator/adjust",
        "CALLBACK_ALLOW_PRIVATE_ADDRESSES": "true",
    }
    manage("migrate", "--noinput", env=serving_env(**env))
    manage("collectstatic", "--noinput", env=serving_env(**env))
    assert (tmp_path / "static" / "staticfiles.json").exists()

    registry.register_adjust_app(adjust.app_key, event_tokens=["f0ob4r"], skan_enabled=True)
    _, api_key = create_api_key("backend", [adjust])
    receiver = Receiver()
    endpoint_secret = signing.new_secret()
    receiver.secret = endpoint_secret

    with (
        LocalServer(receiver) as receiver_server,
        rq_worker(tmp_path / "worker.log", "sends", "callbacks", "default", **env),
        gunicorn(tmp_path / "gunicorn.log", port=port, **env) as url,
    ):
        receiver.server = receiver_server
        CallbackEndpoint.objects.create(
            app=adjust, url=f"{receiver_server.url}/results", secret=endpoint_secret
        )

        def ready():
            response = requests.get(f"{url}/ready/", timeout=10)
            return response if response.status_code == 200 else None

        body = wait_until(ready, 60, f"/ready/ never answered 200; see {tmp_path}").json()
        assert body["status"] == "ready" and body["failed"] == []
        # The pages are served with the collected, hashed static files.
        assert requests.get(f"{url}/login/", timeout=10).status_code == 200

        auth = {"Authorization": f"Bearer {api_key}"}
        event = {
            "app": adjust.name,
            "event": "f0ob4r",
            "device_ids": {"idfa": IDFA},
            "revenue": "33",
            "currency": "EUR",
        }
        posted = requests.post(f"{url}/api/v1/events", json=event, headers=auth, timeout=30)
        assert posted.status_code == 202, posted.text
        delivery_id = posted.json()["results"][0]["delivery_id"]

        def final():
            answer = requests.get(f"{url}/api/v1/deliveries/{delivery_id}", headers=auth, timeout=10).json()
            return answer if answer["final"] else None

        delivery = wait_until(final, 60, f"delivery {delivery_id} never finished; see {tmp_path}")
        assert delivery["status"] == "delivered", delivery
        assert delivery["skan"] == {"fine_value": 33, "coarse_value": "medium", "lock_window": False}
        recorded = registry.recorded_events("adjust", app_key=adjust.app_key)
        assert [r.device_ids.get("idfa") for r in recorded] == [IDFA]

        wait_until(lambda: receiver.verified, 60, f"no verified callback came; see {tmp_path}")
        assert receiver.verified[0]["body"]["data"]["delivery_id"] == delivery_id

        scraped = requests.get(
            f"{url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10
        )
        assert scraped.status_code == 200
        samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(scraped.text)
            for s in family.samples
        }
        app_labels = (("app", adjust.name), ("mmp", "adjust"))
        assert samples[("s2s_deliveries_total", (*app_labels, ("status", "delivered")))] == 1
        assert samples[("s2s_attempts_total", (*app_labels, ("outcome", "delivered")))] == 1
        assert samples[("s2s_attempt_duration_seconds_count", (("mmp", "adjust"),))] == 1
        assert samples[("s2s_workers_alive", ())] == 1
        assert requests.get(f"{url}/metrics", timeout=10).status_code == 401
