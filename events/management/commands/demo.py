"""Everything a first look needs, in one process group: migrate, seed, an admin login, the web
server, a worker with the scheduler, and (when REDIS_URL is unset) the embedded Redis. Ctrl-C stops
it all."""

import os
import secrets
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from events import embedded_redis
from events.providers import PROVIDERS

ADMIN_USERNAME = "admin"


class Command(BaseCommand):
    help = "Run the dashboard, a worker and the emulator locally with demo data (see README)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-seed", action="store_true", help="Skip the demo apps.")

    def handle(self, *args, **options):
        port = options["port"]
        children: list[subprocess.Popen] = []
        redis_server = None
        env = dict(os.environ)
        for provider in PROVIDERS.values():
            name = provider.base_url_setting
            if "/emulator/" in getattr(settings, name):  # follow --port when the .env points at us
                env[name] = f"http://127.0.0.1:{port}/emulator/{provider.name}"
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
            self.ensure_admin()
            manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
            self.stdout.write("==> Starting a worker (with the scheduler) and the web server")
            children.append(
                subprocess.Popen(
                    [*manage, "rqworker", settings.SEND_QUEUE, "default", "--with-scheduler"], env=env
                )
            )
            children.append(
                subprocess.Popen([*manage, "runserver", f"127.0.0.1:{port}", "--noreload"], env=env)
            )
            self.stdout.write(
                self.style.SUCCESS(f"\nReady: http://127.0.0.1:{port}/ (Ctrl-C stops everything)\n")
                + "Fire a demo event from another terminal:\n"
                "  .venv/bin/python manage.py send_event 'Demo Adjust iOS' f0ob4r "
                "--device idfa=D2CADB5F-410F-4963-AC0C-2A78534BDF1E --wait\n"
            )
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
            self.stderr.write("A child process exited; stopping the rest.")
        except KeyboardInterrupt:
            self.stdout.write("\nStopping...")
        finally:
            # The web server first, then the worker (SIGTERM: RQ finishes the job at hand), and
            # Redis last, once nothing uses it.
            for child in reversed(children):
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()
            if redis_server is not None:
                embedded_redis.stop(redis_server)
            self.stdout.write("Stopped.")

    def ensure_admin(self) -> None:
        users = get_user_model().objects
        if users.filter(username=ADMIN_USERNAME).exists():
            self.stdout.write(
                f"==> Admin login: {ADMIN_USERNAME} (password printed on the first run; "
                f"change it with `manage.py changepassword {ADMIN_USERNAME}`)"
            )
            return
        password = secrets.token_urlsafe(12)
        users.create_superuser(ADMIN_USERNAME, email="", password=password)
        self.stdout.write(self.style.WARNING(f"==> Created the admin login: {ADMIN_USERNAME} / {password}"))
