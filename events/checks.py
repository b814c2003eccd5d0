"""System checks for settings that Django accepts but that would break sending or leak data."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=False)
def check_mmp_base_urls(app_configs, **kwargs):
    from events.providers import PROVIDERS  # imports the models: not before the app registry

    errors = []
    for name in (provider.base_url_setting for provider in PROVIDERS.values()):
        url = getattr(settings, name)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            errors.append(Error(f"{name} must be an http(s) URL with a host, not {url!r}.", id="events.E001"))
            continue
        if parts.query or parts.fragment:
            errors.append(Error(f"{name} must not carry a query or fragment: {url!r}.", id="events.E002"))
        points_at_emulator = settings.EMULATOR_ENABLED and parts.path.startswith("/emulator/")
        if parts.scheme != "https" and not settings.DEBUG and not points_at_emulator:
            errors.append(
                Error(
                    f"{name} is {url!r}: outside DEBUG, MMP traffic (tokens included) must use https.",
                    hint="Use https, or point it at this server's own /emulator/ with EMULATOR_ENABLED.",
                    id="events.E003",
                )
            )
        if points_at_emulator is False and parts.path.startswith("/emulator/"):
            errors.append(
                Error(
                    f"{name} points at the emulator ({url!r}) but EMULATOR_ENABLED is off.",
                    id="events.E004",
                )
            )
    return errors


@register(Tags.security)
def check_secrets_key(app_configs, **kwargs):
    from cryptography.fernet import Fernet

    problems = []
    for key in settings.SECRETS_KEYS:
        try:
            Fernet(key)
        except ValueError:
            problems.append(
                Error(
                    "SECRETS_KEY holds a value that is not a Fernet key (32 url-safe base64 bytes).",
                    hint='python -c "from cryptography.fernet import Fernet; '
                    'print(Fernet.generate_key().decode())"',
                    id="events.E005",
                )
            )
    if not settings.SECRETS_KEYS and settings.DEBUG:
        problems.append(
            Warning(
                "SECRETS_KEY is unset: secrets are encrypted with a key derived from SECRET_KEY "
                "(acceptable for local DEBUG only).",
                id="events.W001",
            )
        )
    return problems


@register()
def check_timeouts_and_backoff(app_configs, **kwargs):
    errors = []
    if settings.HTTP_CONNECT_TIMEOUT <= 0 or settings.HTTP_READ_TIMEOUT <= 0:
        errors.append(Error("HTTP_CONNECT_TIMEOUT and HTTP_READ_TIMEOUT must be positive.", id="events.E006"))
    if any(delay < 0 for delay in settings.SEND_BACKOFF):
        errors.append(Error("SEND_BACKOFF delays must not be negative.", id="events.E007"))
    if not 0 <= settings.SEND_BACKOFF_JITTER < 1:
        errors.append(Error("SEND_BACKOFF_JITTER must be in [0, 1).", id="events.E008"))
    return errors


# The send engine writes a batch with UPDATE ... FROM and claims with UPDATE ... RETURNING.
SQLITE_MINIMUM = (3, 35, 0)


@register(Tags.database)
def check_sqlite_version(app_configs, databases=None, **kwargs):
    from django.db import connections

    if not databases or "default" not in databases or connections["default"].vendor != "sqlite":
        return []
    import sqlite3

    return sqlite_version_problems(sqlite3.sqlite_version_info)


def sqlite_version_problems(version: tuple[int, ...]) -> list[Error]:
    if tuple(version) >= SQLITE_MINIMUM:
        return []
    found = ".".join(map(str, version))
    return [
        Error(
            f"SQLite {found} is too old: the send engine needs {'.'.join(map(str, SQLITE_MINIMUM))} or "
            "newer (UPDATE ... RETURNING). Use a newer Python build, or PostgreSQL (DATABASE_URL).",
            id="events.E009",
        )
    ]


@register()
def check_rollup_retention(app_configs, **kwargs):
    # Ranges reaching past the hourly rows are read from the daily ones: those must outlive them.
    if not 1 <= settings.ROLLUP_RETENTION_DAYS <= settings.ROLLUP_DAILY_RETENTION_DAYS:
        return [
            Error(
                "ROLLUP_RETENTION_DAYS (hourly rollups) must be at least 1 and at most "
                f"ROLLUP_DAILY_RETENTION_DAYS; they are {settings.ROLLUP_RETENTION_DAYS} "
                f"and {settings.ROLLUP_DAILY_RETENTION_DAYS}.",
                id="events.E020",
            )
        ]
    return []
