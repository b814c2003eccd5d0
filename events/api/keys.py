"""API keys for backends: the raw key is shown once; only a keyed hash is stored."""

import hmac
import secrets as random_tokens

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from events.api.models import ApiKey
from events.models import App

KEY_PREFIX = "s2s_"
PREFIX_LENGTH = len(KEY_PREFIX) + 8  # "s2s_" and 8 hex digits, then "_" and the secret part


def hash_key(raw: str, secret: str | None = None) -> str:
    return salted_hmac("s2sadmin.api-key", raw, secret=secret, algorithm="sha256").hexdigest()


def create_api_key(
    name: str, apps: list[App], *, user=None, rate_limit_per_minute: int = 600
) -> tuple[ApiKey, str]:
    """Returns the key row and the raw key, which is never stored and cannot be shown again."""
    prefix = KEY_PREFIX + random_tokens.token_hex(4)
    raw = f"{prefix}_{random_tokens.token_urlsafe(32)}"
    with transaction.atomic():
        key = ApiKey.objects.create(
            name=name,
            prefix=prefix,
            key_hash=hash_key(raw),
            created_by=user if user is not None and user.is_authenticated else None,
            rate_limit_per_minute=rate_limit_per_minute,
        )
        key.apps.set(apps)
    return key, raw


def authenticate(raw: str) -> ApiKey | None:
    """The active key this raw value belongs to, or None; constant-time comparison."""
    prefix = raw[:PREFIX_LENGTH]
    if not prefix.startswith(KEY_PREFIX) or raw[PREFIX_LENGTH : PREFIX_LENGTH + 1] != "_":
        return None
    key = ApiKey.objects.filter(prefix=prefix, revoked_at=None).first()
    if key is None:
        return None
    # SECRET_KEY_FALLBACKS keep keys working through a SECRET_KEY rotation.
    for secret in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]:
        if hmac.compare_digest(key.key_hash, hash_key(raw, secret)):
            if key.last_used_at is None or (timezone.now() - key.last_used_at).total_seconds() > 60:
                # At most once a minute: a write per request would cost more than the request.
                ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
            return key
    return None


def revoke(key: ApiKey) -> None:
    ApiKey.objects.filter(pk=key.pk, revoked_at=None).update(revoked_at=timezone.now())
