"""The shared cast: apps and tokens for each provider, a clean Redis, and the emulator over HTTP."""

import subprocess
import sys
from contextlib import contextmanager

import django_rq
import pytest
from django.conf import settings

from events.models import App, EventKind, EventToken, Platform, Provider, SecurityToken

ADJUST_APP_TOKEN = "4w565xzmb54d"
ADJUST_SECURITY_TOKEN = "v8s5opi0zs45607l8h8c48wak2vxb5oe"
TENJIN_SDK_KEY = "ENECCCVB8UQVLPSQ58S8EZXTJHA7FHDW"
IDFA = "D2CADB5F-410F-4963-AC0C-2A78534BDF1E"


def queue_adjust_event(app: App, *, idfa: str = IDFA, source: str = "cli", token: str = "f0ob4r", **fields):
    """One event of a test Adjust app for one IDFA, saved and enqueued as send_event does: its delivery."""
    from events.engine import create_delivery

    fields = {"device_ids": {"idfa": idfa}, **fields}
    delivery, _ = create_delivery(app, app.event_tokens.get(token=token), fields, source=source)
    return delivery


GPS_ADID = "660e1d86-6796-463a-be86-897993136018"
TENJIN_ADVERTISING_ID = "f024e65f-3dd9-4f16-9837-26bcef192d68"
TENJIN_INSTALLATION_ID = "29eeb1610fe74997b6d53f02e9711f8c"
TENJIN_IDFV = "8A3CB124-5A79-4334-8802-F75FEC099C58"
APPSFLYER_S2S_TOKEN = "c2f1a9e0-7b3d-4e8f-9a1b-2c3d4e5f6a7b"
APPSFLYER_ID = "1415211453000-6513894"
SINGULAR_SDK_KEY = "demo_singular_sdk_key_5f2c"
SINGULAR_SDID = "40009df0-d618-4d81-9da1-cbb3337b8dec"


@pytest.fixture
def adjust_app(db) -> App:
    app = App.objects.create(
        name="Demo Adjust iOS",
        provider=Provider.ADJUST,
        platform=Platform.IOS,
        app_key=ADJUST_APP_TOKEN,
        bundle_id="com.example.demo",
    )
    EventToken.objects.create(app=app, name="Purchase", token="f0ob4r")
    EventToken.objects.create(app=app, name="Signup", token="2y7e81")
    return app


@pytest.fixture
def app_on(db):
    """app_on(platform): an Adjust app of that platform, with the event token f0ob4r."""

    def make(platform: str) -> App:
        app = App.objects.create(
            name=f"Adjust {platform}", provider=Provider.ADJUST, platform=platform, app_key="abc123abc123"
        )
        EventToken.objects.create(app=app, name="Purchase", token="f0ob4r")
        return app

    return make


@pytest.fixture
def adjust_security_token(adjust_app) -> SecurityToken:
    return SecurityToken.objects.create(app=adjust_app, label="primary", value=ADJUST_SECURITY_TOKEN)


@pytest.fixture
def tenjin_app(db) -> App:
    app = App.objects.create(
        name="Demo Tenjin Android",
        provider=Provider.TENJIN,
        platform=Platform.ANDROID,
        app_key=TENJIN_SDK_KEY,
        bundle_id="com.tenjin.wordfinder",
        default_environment="production",
    )
    EventToken.objects.create(app=app, name="Level up", token="level_up")
    EventToken.objects.create(app=app, name="Purchase", token="purchase", kind=EventKind.PURCHASE)
    return app


@pytest.fixture
def appsflyer_app(db) -> App:
    app = App.objects.create(
        name="Demo AppsFlyer iOS",
        provider=Provider.APPSFLYER,
        platform=Platform.IOS,
        app_key=APPSFLYER_S2S_TOKEN,
        bundle_id="id123456789",
        default_environment="production",
    )
    EventToken.objects.create(app=app, name="Purchase", token="af_purchase")
    return app


@pytest.fixture
def singular_app(db) -> App:
    app = App.objects.create(
        name="Demo Singular Android",
        provider=Provider.SINGULAR,
        platform=Platform.ANDROID,
        app_key=SINGULAR_SDK_KEY,
        bundle_id="com.example.singular",
        default_environment="production",
    )
    EventToken.objects.create(app=app, name="Level up", token="level_up")
    return app


@pytest.fixture
def adjust(emulator, adjust_app, adjust_security_token):
    """The Adjust demo app, known to the emulated Adjust with both its event tokens."""
    emulator.register_adjust_app(
        adjust_app.app_key, event_tokens=["f0ob4r", "2y7e81"], security_tokens=[ADJUST_SECURITY_TOKEN]
    )
    return adjust_app


@pytest.fixture
def tenjin(emulator, tenjin_app):
    """The Tenjin demo app, known to the emulated Tenjin with its SDK key."""
    emulator.register_tenjin_app(tenjin_app.bundle_id, tenjin_app.platform, sdk_keys=[tenjin_app.app_key])
    return tenjin_app


@pytest.fixture
def redis_conn():
    """The send queue's Redis, emptied before and after the test."""
    connection = django_rq.get_connection("sends")
    connection.flushdb()
    yield connection
    connection.flushdb()


def database_url_for_subprocesses() -> str:
    """The test database as a DATABASE_URL, for workers started as separate processes."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


def subprocess_env(**overrides: str) -> dict[str, str]:
    import os

    from django.conf import settings

    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url_for_subprocesses(),
        ADJUST_BASE_URL=settings.ADJUST_BASE_URL,
        TENJIN_BASE_URL=settings.TENJIN_BASE_URL,
        APPSFLYER_BASE_URL=settings.APPSFLYER_BASE_URL,
        SINGULAR_BASE_URL=settings.SINGULAR_BASE_URL,
        SEND_BACKOFF=",".join(str(d) for d in settings.SEND_BACKOFF),
        HTTP_READ_TIMEOUT=str(settings.HTTP_READ_TIMEOUT),
    )
    env.update(overrides)
    return env


@contextmanager
def worker_process():
    """A real worker with RQ's scheduler, in its own process, for the length of the block."""
    worker = subprocess.Popen(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "rqworker", "sends", "--with-scheduler"],
        env=subprocess_env(),
        stdout=subprocess.DEVNULL,  # nobody reads it while it runs: a full pipe would block it
    )
    try:
        yield worker
    finally:
        worker.terminate()
        worker.wait(10)


def run_worker() -> None:
    """A real RQ worker (our SendWorker) in this process, until the send queue is empty."""
    django_rq.get_worker("sends").work(burst=True)


@pytest.fixture
def emulator(live_server, settings, redis_conn):
    """The project's own emulator, served over a real socket, as both MMPs' base URL."""
    from events import transport
    from events.emulator import registry

    settings.ADJUST_BASE_URL = f"{live_server.url}/emulator/adjust"
    settings.TENJIN_BASE_URL = f"{live_server.url}/emulator/tenjin"
    settings.APPSFLYER_BASE_URL = f"{live_server.url}/emulator/appsflyer"
    settings.SINGULAR_BASE_URL = f"{live_server.url}/emulator/singular"
    # Retries go straight back on the queue, so one burst of the worker sees them through.
    settings.SEND_BACKOFF = [0, 0, 0]
    settings.SEND_BACKOFF_JITTER = 0
    transport.reset_session()
    registry.clear_faults()
    yield registry
    transport.reset_session()


# --- The cast: one user per role ------------------------------------------------------------

PASSWORD = "correct-horse-battery-staple"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip


def make_user(username: str, role: str | None):
    from django.contrib.auth import get_user_model

    from events.roles import assign_role

    user = get_user_model().objects.create_user(username, password=PASSWORD)
    if role:
        assign_role(user, role)
    return user


@pytest.fixture
def admin(db):
    return make_user("alice-admin", "admin")


@pytest.fixture
def marketer(db):
    return make_user("mark-marketer", "marketer")


@pytest.fixture
def viewer(db):
    return make_user("vera-viewer", "viewer")


@pytest.fixture
def outsider(db):
    """Logged in, but with no role at all."""
    return make_user("olly-outsider", None)


@pytest.fixture
def client_for(client):
    """client_for(user) -> the test client, logged in as that user."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, not a Playwright download (stack notes §7)."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache, without another's entries."""
    from django.core.cache import cache

    cache.clear()
    yield
