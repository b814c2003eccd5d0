"""Send N events through the real pipeline while it is being broken, and show nothing was lost.

The emulator answers 30% of requests with 500, 429, a timeout or a dropped connection; the workers
are killed with SIGKILL twice (and started again); Redis is restarted once, losing every queued and
scheduled job. The command passes only when every delivery ends delivered (no fault is scripted to
fail an event for good), none is lost (not final, or delivered but never recorded by the emulator),
every event recorded twice belongs to a delivery marked ambiguous, and the kills and the restart
were seen to happen.

It runs in a scratch database of its own (a SQLite file under .run/, or --database-url) and a Redis
of its own, with short timings (backoff, timeouts, maintenance) so 1,000 events take a minute or two.
"""

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

CHUNK = 100
# The order of the breakage, by the share of deliveries already final.
KILL_AT, REDIS_AT, KILL_AGAIN_AT = 0.2, 0.45, 0.7


def suite_env(run_dir: Path, database_url: str, port: int) -> dict[str, str]:
    """Short timings, so faults cost seconds: retries, liveness and the reconciler."""
    socket_path = run_dir / "redis.sock"
    emulator = f"http://127.0.0.1:{port}/emulator"
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": f"unix://{socket_path}?db=0",
        "S2S_FAULT_SUITE_SOCKET": str(socket_path),
        "S2S_FAULT_SUITE_PORT": str(port),
        "S2S_FAULT_SUITE_DIR": str(run_dir),
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "fault-suite-only-" + "x" * 40),
        "SECRETS_KEY": os.environ.get("SECRETS_KEY") or _fernet_key(),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "EMULATOR_ENABLED": "true",
        "SECURE_SSL_REDIRECT": "false",
        "STATICFILES_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "ADJUST_BASE_URL": f"{emulator}/adjust",
        "TENJIN_BASE_URL": f"{emulator}/tenjin",
        "HTTP_CONNECT_TIMEOUT": "0.3",
        "HTTP_READ_TIMEOUT": "0.5",
        "SEND_BACKOFF": "0.5,1,2",
        "SEND_MAX_ATTEMPTS": "15",
        "WORKER_TTL": "18",
        "WORKER_LIVENESS_TTL": "5",
        "WORKER_MAINTENANCE_INTERVAL": "2",
        "RECONCILE_INTERVAL": "2",
        "RECONCILE_GRACE": "2",
        # Concurrency on, at what one emulator process answers within the short read timeout; a
        # pause after a run of failures lasts seconds, like every other wait here.
        "SEND_CONCURRENCY": "16",
        "SEND_BREAKER_PAUSE": "2",
        "SEND_BREAKER_MAX_PAUSE": "8",
        "LOG_LEVEL": os.environ.get("FAULT_SUITE_LOG_LEVEL", "WARNING"),
    }


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Command(BaseCommand):
    help = (
        "Break the pipeline on purpose (faults, SIGKILLed workers, a Redis restart) and count what survives."
    )

    def add_arguments(self, parser):
        parser.add_argument("--events", type=int, default=10_000, help="How many events (default 10,000).")
        parser.add_argument("--workers", type=int, default=2, help="Worker processes (default 2).")
        parser.add_argument("--database-url", help="Run in this database instead of a scratch SQLite file.")
        parser.add_argument("--timeout", type=float, help="Give up after this many seconds.")
        parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
        parser.add_argument("--serve-emulator", type=int, metavar="PORT", help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        if options["serve_emulator"]:
            from events.fault_suite import serve_emulator

            return serve_emulator(options["serve_emulator"])
        if options["child"]:
            return self.run_suite(options)
        return self.prepare_and_run(options)

    def prepare_and_run(self, options) -> None:
        """Set the stage (database, environment) and run the suite in a child process that has it."""
        run_dir = settings.RUN_DIR / f"fs-{os.getpid()}"
        run_dir.mkdir(parents=True, exist_ok=True)
        database_url = options["database_url"] or f"sqlite:///{run_dir / 'db.sqlite3'}"
        env = suite_env(run_dir, database_url, _free_port())
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        self.stdout.write(f"==> Migrating the suite's database ({database_url.split('@')[-1]})")
        subprocess.run([*manage, "migrate", "--verbosity", "0"], env=env, check=True)  # noqa: S603
        command = [*manage, "fault_suite", "--child", "--events", str(options["events"])]
        command += ["--workers", str(options["workers"])]
        if options["timeout"]:
            command += ["--timeout", str(options["timeout"])]
        code = subprocess.call(command, env=env)  # noqa: S603
        if code:
            raise CommandError(f"The fault suite failed (logs in {run_dir}).")
        if not options["database_url"]:
            for leftover in run_dir.glob("db.sqlite3*"):
                leftover.unlink()

    def run_suite(self, options) -> None:
        from events import fault_suite

        count, out = options["events"], self.stdout
        timeout = options["timeout"] or 120 + count * 0.2
        processes = fault_suite.Processes(
            Path(os.environ["S2S_FAULT_SUITE_DIR"]),
            dict(os.environ),
            int(os.environ["S2S_FAULT_SUITE_PORT"]),
            options["workers"],
        )
        out.write(
            f"==> Fault suite: {count:,} events, {options['workers']} workers, 30% faults "
            f"({', '.join(fault_suite.FAULT_SHARES)}); planned: {fault_suite.PLANNED_KILLS} worker kills, "
            f"{fault_suite.PLANNED_REDIS_RESTARTS} Redis restart"
        )
        started = time.monotonic()
        steps = [
            (KILL_AT, processes.kill_workers),
            (REDIS_AT, processes.restart_redis),
            (KILL_AGAIN_AT, processes.kill_workers),
        ]
        try:
            processes.start()
            events = list(fault_suite.seed())
            apps = [event.app for event in events]
            created, next_report = 0, 10.0
            while True:
                if created < count:
                    created += fault_suite.create_events(events, min(CHUNK, count - created))
                done = fault_suite.progress(apps)
                elapsed = time.monotonic() - started
                if steps and done >= steps[0][0] * count:
                    _, step = steps.pop(0)
                    out.write(f"  {elapsed:5.1f} s: {step.__doc__.splitlines()[0]} ({done:,} final)")
                    step()
                processes.supervise()
                if elapsed >= next_report:
                    out.write(f"  {elapsed:5.1f} s: {created:,} created, {done:,} final")
                    next_report += 10
                if created >= count and done >= count and not steps:
                    break
                if elapsed > timeout:
                    out.write(f"  Timed out after {timeout:g} s with {done:,} of {count:,} final")
                    break
                if created >= count:
                    time.sleep(0.5)
        finally:
            processes.stop()
        breakage = (
            f"{processes.kills} worker kills, {processes.redis_restarts} Redis restart, "
            f"workers that exited on their own and were started again: {processes.restarted_after_exit}"
        )
        result = fault_suite.tally(apps, expected=count, processes=processes)
        out.write(fault_suite.table(result, breakage, time.monotonic() - started))
        if not result.passed:
            raise CommandError(
                "Something was lost, left unfinished, not delivered, or duplicated without being marked "
                "ambiguous, or the planned breakage did not happen."
            )
