"""Real server processes for the tests that serve for real: gunicorn and RQ workers started as
the README's "Running for real" says, against the test database and Redis."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from django.conf import settings

from tests.conftest import subprocess_env
from tests.local_server import free_port


def serving_env(**overrides: str) -> dict[str, str]:
    """The environment of a production-like process: DEBUG off, on plain http (no TLS in tests)."""
    return subprocess_env(
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SERVED_OVER_HTTPS="false",
        **overrides,
    )


@contextmanager
def gunicorn(log: Path, port: int | None = None, **env: str) -> Iterator[str]:
    """gunicorn serving s2sadmin.wsgi on 127.0.0.1 until the block ends; yields its base URL once
    /health/ answers."""
    port = port or free_port()
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "s2sadmin.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", "2", "--threads", "4", "--timeout", "60"],
            cwd=settings.BASE_DIR,
            env=serving_env(**env),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(f"{url}/health/"), 30, f"gunicorn never answered; its log: {log}", server)
        yield url
    finally:
        stop(server)


@contextmanager
def rq_worker(log: Path, *queues: str, scheduler: bool = True, **env: str) -> Iterator[subprocess.Popen]:
    """`manage.py rqworker QUEUES [--with-scheduler]`: the project's SendWorker in its own process."""
    flags = ["--with-scheduler"] if scheduler else []
    with log.open("wb") as output:
        worker = subprocess.Popen(
            [
                sys.executable,
                str(settings.BASE_DIR / "manage.py"),
                "rqworker",
                *(queues or ("sends",)),
                *flags,
            ],
            cwd=settings.BASE_DIR,
            env=serving_env(**env),
            stdout=output,
            stderr=subprocess.STDOUT,
            # A group of its own: RQ's scheduler is a forked child, which must not outlive the test.
            start_new_session=True,
        )
    try:
        yield worker
    finally:
        stop(worker)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM, as a supervisor stops it: the worker stops its scheduler (which releases its lock)
    and signs off from Redis. Then SIGKILL for anything left in its group, such as a scheduler
    whose worker could not stop it: nothing outlives the test."""
    process.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(5)


def wait_until(condition, seconds: float, message: str, process: subprocess.Popen | None = None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process is not None and process.poll() is not None:
            raise AssertionError(f"{message} (it exited with {process.returncode})")
        time.sleep(0.2)
    raise AssertionError(message)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False
