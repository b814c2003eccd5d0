"""Everything a first look needs, in one process group: migrate, seed, an admin login, the web
server, a worker with the scheduler, and (when REDIS_URL is unset) the embedded Redis. Ctrl-C stops
it all.

It says "Ready" only once its own web server answers, refuses a port another program holds (and
exits non-zero), keeps the worker's and the server's routine logs in .run/, and prints the login
last, where it stays on screen.
"""

import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from events import embedded_redis
from events.providers import PROVIDERS

ADMIN_USERNAME = "admin"
READY_WITHIN_SECONDS = 30
LOG_TAIL_LINES = 15


class Command(BaseCommand):
    help = "Run the dashboard, a worker and the emulator locally with demo data (see README)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-seed", action="store_true", help="Skip the demo apps.")
        parser.add_argument(
            "--logs", type=Path, default=Path(settings.BASE_DIR) / ".run", help="Where the logs go (.run/)."
        )

    def handle(self, *args, **options):
        port = options["port"]
        if not port_is_free(port):
            raise CommandError(
                f"Port {port} is already in use by another program, so the demo cannot serve there. "
                f"Stop that program, or choose another port: ./scripts/demo --port={port + 1}"
            )
        logs = options["logs"]
        logs.mkdir(parents=True, exist_ok=True)
        children: dict[str, subprocess.Popen] = {}
        redis_server = None
        env = dict(os.environ)
        for provider in PROVIDERS.values():
            name = provider.base_url_setting
            if "/emulator/" in getattr(settings, name):  # follow --port when the .env points at us
                env[name] = f"http://127.0.0.1:{port}/emulator/{provider.name}"
        # SIGTERM (a process manager, `kill`) stops the demo as Ctrl-C does: through the clean-up
        # below, rather than leaving the worker, the web server and the embedded Redis behind.
        previous_sigterm = signal.signal(signal.SIGTERM, interrupt)
        try:
            if "REDIS_URL" not in os.environ:
                socket_path = settings.EMBEDDED_REDIS_SOCKET
                self.stdout.write(f"==> Starting the embedded Redis on {socket_path}")
                redis_server = embedded_redis.start(socket_path)
                env["REDIS_URL"] = embedded_redis.url_for(socket_path)
            self.stdout.write("==> Migrating the database")
            call_command("migrate", interactive=False, verbosity=0)
            if not options["no_seed"]:
                call_command("seed_demo")
            login = self.ensure_admin()
            manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
            self.stdout.write(
                f"==> Starting a worker (with the scheduler) and the web server; logs in {logs}/"
            )
            commands = {
                "worker": [
                    *manage,
                    "rqworker",
                    settings.SEND_QUEUE,
                    settings.CALLBACK_QUEUE,
                    "default",
                    "--with-scheduler",
                ],
                "web server": [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
            }
            for name, command in commands.items():
                with open(log_path(logs, name), "w") as log:
                    children[name] = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
            self.wait_until_ready(port, children, logs)
            self.stdout.write(
                self.style.SUCCESS(f"\nReady: http://127.0.0.1:{port}/ (Ctrl-C stops everything)\n")
                + "Fire a demo event from another terminal:\n"
                "  .venv/bin/python manage.py send_event 'Demo Adjust iOS' f0ob4r "
                "--device idfa=D2CADB5F-410F-4963-AC0C-2A78534BDF1E --wait\n"
                f"Logs: {log_path(logs, 'worker')} and {log_path(logs, 'web server')}\n"
            )
            self.stdout.write(login)
            while True:
                stopped = [name for name, child in children.items() if child.poll() is not None]
                if stopped:
                    self.fail(stopped[0], children[stopped[0]], logs, "stopped")
                time.sleep(0.5)
        except KeyboardInterrupt:
            self.stdout.write("\nStopping...")
        finally:
            self.stop(children, redis_server)
            signal.signal(signal.SIGTERM, previous_sigterm)

    def stop(self, children: dict[str, subprocess.Popen], redis_server: subprocess.Popen | None) -> None:
        """The web server first, then the worker (SIGTERM: RQ finishes the job at hand), and Redis
        last, once nothing uses it.

        A second Ctrl-C (people press it again when stopping takes a few seconds) or a SIGTERM
        would interrupt this half-way: the embedded Redis runs in a session of its own, so nothing
        else would stop it. Both are ignored until everything is stopped."""
        previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            for child in reversed(children.values()):
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()
            if redis_server is not None:
                embedded_redis.stop(redis_server)
            self.stdout.write("Stopped.")
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def wait_until_ready(self, port: int, children: dict[str, subprocess.Popen], logs: Path) -> None:
        """Until our own web server answers its health check; any child that stops first fails the demo."""
        deadline = time.monotonic() + READY_WITHIN_SECONDS
        while time.monotonic() < deadline:
            for name, child in children.items():
                if child.poll() is not None:
                    self.fail(name, child, logs, "stopped while starting")
            if answers_health_check(port):
                return
            time.sleep(0.3)
        self.fail(
            "web server", children["web server"], logs, f"did not answer within {READY_WITHIN_SECONDS} s"
        )

    def fail(self, name: str, child: subprocess.Popen, logs: Path, what: str) -> None:
        path = log_path(logs, name)
        tail = path.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:] if path.exists() else []
        self.stderr.write("\n".join([f"The {name} {what}. The end of {path}:", *tail]))
        raise CommandError(f"The demo stopped: the {name} {what}.")

    def ensure_admin(self) -> str:
        """The admin login to print last: with its password on the first run only."""
        users = get_user_model().objects
        if users.filter(username=ADMIN_USERNAME).exists():
            return (
                f"Log in as {ADMIN_USERNAME} (the password was printed on the first run; "
                f"change it with `.venv/bin/python manage.py changepassword {ADMIN_USERNAME}`)\n"
            )
        password = secrets.token_urlsafe(12)
        users.create_superuser(ADMIN_USERNAME, email="", password=password)
        return self.style.WARNING(f"Log in as {ADMIN_USERNAME} / {password}  (shown once: note it now)\n")


def interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def log_path(logs: Path, name: str) -> Path:
    return logs / f"demo-{name.replace(' ', '-')}.log"


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a port in TIME_WAIT is free
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def answers_health_check(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/health/")
        response = connection.getresponse()
        return response.status == 200 and b'"ok"' in response.read()
    except OSError:
        return False
    finally:
        connection.close()
