"""The pieces of `manage.py fault_suite`: the processes it runs and breaks, the events it sends, and
the table it prints. See the command for the order of things.

Everything is real: an embedded redis-server on a unix socket (restarted by stopping it and starting
it again: it keeps nothing on disk, so every queued and scheduled job vanishes), worker processes
with RQ's scheduler (killed with SIGKILL, scheduler included, and started again like a supervisor
would), and the emulator served by `runserver` over HTTP.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import redis
from django.conf import settings
from django.db import transaction

from events import embedded_redis
from events.emulator import registry
from events.emulator.models import EmuRecordedEvent
from events.engine import create_delivery
from events.models import (
    FINAL_STATUSES,
    App,
    Attempt,
    Delivery,
    EventToken,
    Platform,
    Provider,
    Source,
    Status,
)

ADJUST_APP = ("Fault suite Adjust", "faultsuite01", "fsevnt")
TENJIN_APP = (
    "Fault suite Tenjin",
    "FAULTSUITETENJINSDKKEY0000000001",
    "fault_suite_event",
    "com.example.faultsuite",
)
# 30% of requests: the kinds the issue names; timeouts and dropped connections both before and
# after recording (a real MMP may record an event and answer too late).
FAULT_SHARES = {
    "error_500": 0.09,
    "error_429": 0.06,
    "timeout": 0.03,
    "timeout_after_record": 0.02,
    "dropped": 0.05,
    "dropped_after_record": 0.05,
}
# The breakage the command plans; the suite passes only if it happened.
PLANNED_KILLS, PLANNED_REDIS_RESTARTS = 2, 1


class Processes:
    """The suite's Redis, emulator server and workers, each its own process group."""

    def __init__(self, run_dir: Path, env: dict[str, str], port: int, workers: int):
        self.run_dir, self.env, self.port, self.count = run_dir, env, port, workers
        self.socket = Path(env["S2S_FAULT_SUITE_SOCKET"])
        self.redis: subprocess.Popen | None = None
        self.emulator: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self.started = 0
        self.kills = 0
        self.redis_restarts = 0
        self.restarted_after_exit = 0

    def manage(self, *args: str, log_name: str) -> subprocess.Popen:
        log = open(self.run_dir / log_name, "ab")  # noqa: SIM115 - the child owns it
        return subprocess.Popen(  # noqa: S603 - our own manage.py
            [sys.executable, str(settings.BASE_DIR / "manage.py"), *args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a SIGKILL of the group takes RQ's scheduler child with it
        )

    def start(self) -> None:
        self.redis = embedded_redis.start(self.socket)
        self.emulator = self.manage(
            "fault_suite", "--serve-emulator", str(self.port), log_name="emulator.log"
        )
        wait_for_port(self.port, self.emulator)
        self.workers = [self.start_worker() for _ in range(self.count)]

    def start_worker(self) -> subprocess.Popen:
        self.started += 1
        return self.manage(
            "rqworker", settings.SEND_QUEUE, "--with-scheduler", log_name=f"worker-{self.started}.log"
        )

    def kill_workers(self) -> None:
        """SIGKILL of every worker and its scheduler, mid-batch; as many started again.

        Their claims stay in `sending` until the reconciler sees their registrations are gone.
        Counted once every worker it signalled is seen dead (killed by SIGKILL)."""
        killed = 0
        for worker in self.workers:
            _killpg(worker, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                killed += worker.wait(10) == -signal.SIGKILL
        if self.workers and killed == len(self.workers):
            self.kills += 1
        self.workers = [self.start_worker() for _ in self.workers]

    def supervise(self) -> None:
        """A worker that exited (e.g. on losing Redis mid-job) is started again."""
        for index, worker in enumerate(self.workers):
            if worker.poll() is not None:
                self.restarted_after_exit += 1
                self.workers[index] = self.start_worker()

    def restart_redis(self) -> None:
        """Redis stopped and started again: every queued and scheduled job is gone.

        Counted once the old server is seen gone and a new process answers on the socket."""
        old = self.redis
        embedded_redis.stop(old)
        self.redis = embedded_redis.start(self.socket)
        fresh = redis.Redis(unix_socket_path=str(self.socket))
        try:
            if old.poll() is not None and self.redis.pid != old.pid and fresh.ping():
                self.redis_restarts += 1
        finally:
            fresh.close()

    def stop(self) -> None:
        for worker in self.workers:
            _killpg(worker, signal.SIGTERM)
        for process in [*self.workers, self.emulator]:
            if process is not None:
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    _killpg(process, signal.SIGKILL)
        if self.emulator is not None and self.emulator.poll() is None:
            _killpg(self.emulator, signal.SIGTERM)
        if self.redis is not None:
            embedded_redis.stop(self.redis)


def serve_emulator(port: int) -> None:
    """This project behind Django's threaded development server, minus its 40 ms per answer: the
    stdlib writes headers and body separately, and Nagle's algorithm with delayed ACKs holds the
    body back on a kept-alive connection (stack notes §8)."""
    from django.core.servers.basehttp import (
        ThreadedWSGIServer,
        WSGIRequestHandler,
        get_internal_wsgi_application,
    )

    class Handler(WSGIRequestHandler):
        wbufsize = 65536
        disable_nagle_algorithm = True

        def log_message(self, format, *args):
            pass

    server = ThreadedWSGIServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.set_app(get_internal_wsgi_application())
    server.serve_forever()


def _killpg(process: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    if sig == signal.SIGKILL:
        process.wait(10)


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"The emulator server exited at start (code {process.returncode}); see emulator.log."
            )
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"The emulator server did not listen on port {port} within {timeout:g} s.")


def seed() -> tuple[EventToken, EventToken]:
    """The two apps on both sides: s2sadmin's, and the emulator's registry (lenient devices)."""
    name, key, token = ADJUST_APP
    adjust, _ = App.objects.update_or_create(
        name=name, defaults={"provider": Provider.ADJUST, "platform": Platform.IOS, "app_key": key}
    )
    adjust_event, _ = EventToken.objects.get_or_create(app=adjust, token=token, defaults={"name": "Suite"})
    registry.register_adjust_app(key, event_tokens=[token], lenient_devices=True)
    name, key, token, bundle = TENJIN_APP
    tenjin, _ = App.objects.update_or_create(
        name=name,
        defaults={
            "provider": Provider.TENJIN,
            "platform": Platform.ANDROID,
            "app_key": key,
            "bundle_id": bundle,
            "default_environment": "production",
        },
    )
    tenjin_event, _ = EventToken.objects.get_or_create(app=tenjin, token=token, defaults={"name": "Suite"})
    registry.register_tenjin_app(bundle, Platform.ANDROID, sdk_keys=[key])
    registry.clear_recorded_events()
    registry.clear_faults()
    registry.set_faults(
        **FAULT_SHARES, retry_after_seconds=1, timeout_seconds=settings.HTTP_READ_TIMEOUT + 0.5
    )
    return adjust_event, tenjin_event


def fields_for(event: EventToken) -> dict:
    """One event with a device id of its own, so each recorded event names its delivery."""
    if event.app.provider == Provider.ADJUST:
        return {"device_ids": {"idfa": str(uuid.uuid4()).upper()}}
    return {
        "device_ids": {"advertising_id": str(uuid.uuid4()), "analytics_installation_id": uuid.uuid4().hex},
        "os_version": "33",
    }


def create_events(events: list[EventToken], count: int) -> int:
    """`count` events, alternating between the apps, in one transaction: enqueued as batches."""
    with transaction.atomic():
        for index in range(count):
            event = events[index % len(events)]
            create_delivery(event.app, event, fields_for(event), source=Source.API)
    return count


@dataclass
class Tally:
    expected: int = 0  # events the run created
    kills: int = 0  # as they happened
    redis_restarts: int = 0
    sent: int = 0
    final: int = 0
    delivered: int = 0
    failed: Counter = field(default_factory=Counter)
    ambiguous: int = 0
    duplicates: int = 0
    duplicates_unmarked: int = 0
    lost: int = 0
    lost_ids: list[int] = field(default_factory=list)
    attempts: int = 0

    @property
    def passed(self) -> bool:
        """Every event delivered (none is scripted to fail for good: every fault is one a retry
        gets past), nothing lost, every duplicate marked ambiguous, and the breakage happened."""
        return (
            self.sent == self.expected
            and self.delivered == self.sent
            and self.lost == 0
            and self.duplicates_unmarked == 0
            and (self.kills, self.redis_restarts) == (PLANNED_KILLS, PLANNED_REDIS_RESTARTS)
        )


def suite_deliveries(apps: list[App]):
    return Delivery.objects.filter(app__in=apps)


def progress(apps: list[App]) -> int:
    return suite_deliveries(apps).filter(status__in=FINAL_STATUSES).count()


def tally(apps: list[App], *, expected: int, processes: Processes) -> Tally:
    recorded: Counter = Counter()
    for ids in EmuRecordedEvent.objects.values_list("device_ids", flat=True):
        for value in set((ids or {}).values()):
            recorded[str(value)] += 1
    result = Tally(expected=expected, kills=processes.kills, redis_restarts=processes.redis_restarts)
    rows = suite_deliveries(apps).values_list("pk", "status", "device_id", "ambiguous", "last_explanation")
    for pk, status, device_id, ambiguous, explanation in rows:
        result.sent += 1
        times = recorded[device_id]
        result.final += status in FINAL_STATUSES
        result.ambiguous += ambiguous
        if status == Status.DELIVERED:
            result.delivered += 1
        elif status in FINAL_STATUSES:
            result.failed[f"{status}: {explanation[:90]}"] += 1
        if times > 1:
            result.duplicates += 1
            result.duplicates_unmarked += not ambiguous
        if status not in FINAL_STATUSES or (status == Status.DELIVERED and times == 0):
            result.lost += 1
            result.lost_ids.append(pk)
    result.attempts = Attempt.objects.filter(delivery__app__in=apps).count()
    return result


def table(result: Tally, breakage: str, wall: float) -> str:
    lines = [f"==> Result ({breakage})"]
    lines += [
        f"  {label:<12}{value:>8}"
        for label, value in (("sent", result.sent), ("delivered", result.delivered))
    ]
    lines.append(f"  {'failed':<12}{sum(result.failed.values()):>8}")
    lines += [f"      {count:>6}  {reason}" for reason, count in result.failed.most_common()]
    unmarked = (
        f"  ({result.duplicates_unmarked} NOT marked ambiguous)"
        if result.duplicates_unmarked
        else "  (all marked ambiguous)"
    )
    lines += [
        f"  {'ambiguous':<12}{result.ambiguous:>8}",
        f"  {'duplicates':<12}{result.duplicates:>8}{unmarked if result.duplicates else ''}",
        f"  {'lost':<12}{result.lost:>8}" + (f"  ids {result.lost_ids[:20]}" if result.lost else ""),
        f"  {'attempts':<12}{result.attempts:>8}",
        f"  {'wall time':<12}{wall:>7.1f}s",
    ]
    return "\n".join([*lines, "PASS" if result.passed else "FAIL"])
