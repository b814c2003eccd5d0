"""MMP secrets: encrypted at rest with Fernet, and masked wherever they could be stored or shown.

Secrets are decrypted only when a request is built; everything that is written (attempt rows,
exports, logs) goes through `Masker` first.
"""

import base64
import hashlib
from collections.abc import Iterable
from functools import cache
from urllib.parse import quote, quote_plus

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

MASK = "••••"


@cache
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if not keys:
        # Only reachable with DEBUG (settings require SECRETS_KEY otherwise): a stable key derived
        # from SECRET_KEY so a development database stays readable across restarts.
        keys = (base64.urlsafe_b64encode(hashlib.sha256(secret_key.encode()).digest()).decode(),)
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "SECRETS_KEY must be one or more Fernet keys (32 url-safe base64-encoded bytes), comma-separated."
        ) from exc


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.SECRETS_KEYS), settings.SECRET_KEY)


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with SECRETS_KEY: the key changed without "
            "re-encrypting (keep the old key listed after the new one)."
        ) from exc


def mask(value: str) -> str:
    """`••••a1b2`: enough to tell two tokens apart, never enough to use one."""
    if len(value) < 8:
        return MASK
    return MASK + value[-4:]


class Ciphertext(str):
    """A value as stored: still encrypted."""


class _DecryptOnAccess:
    """Rows load with the ciphertext; it is decrypted only when code reads the secret, so pages
    that list apps never decrypt, and a key problem surfaces where the secret is used."""

    def __init__(self, name: str):
        self.name = name

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = instance.__dict__.get(self.name)
        if isinstance(value, Ciphertext):
            value = instance.__dict__[self.name] = decrypt(value)
        return value

    def __set__(self, instance, value):
        instance.__dict__[self.name] = value


class EncryptedTextField(models.TextField):
    """A text column that holds a Fernet token; Python code sees the plain value."""

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        setattr(cls, self.attname, _DecryptOnAccess(self.attname))

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return Ciphertext(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "" or isinstance(value, Ciphertext):
            return value
        return encrypt(value)


class Masker:
    """Replaces every known secret, in every encoding it could appear in, by its mask."""

    def __init__(self, secrets: Iterable[str]):
        self.replacements: list[tuple[str, str]] = []
        for secret in {s for s in secrets if s}:
            masked = mask(secret)
            forms = {
                secret,
                quote(secret, safe=""),
                quote_plus(secret),
                # HTTP Basic auth carries "user:" base64-encoded (Tenjin's SDK key).
                base64.b64encode(f"{secret}:".encode()).decode(),
                base64.b64encode(secret.encode()).decode(),
            }
            self.replacements.extend((form, masked) for form in forms if len(form) >= 4)
        # Longest first, so that an encoded form is not half-replaced through a shorter one.
        self.replacements.sort(key=lambda pair: len(pair[0]), reverse=True)

    def text(self, value: str) -> str:
        for secret, masked in self.replacements:
            if secret in value:
                value = value.replace(secret, masked)
        return value

    def headers(self, headers: dict[str, str]) -> dict[str, str]:
        return {name: self.text(value) for name, value in headers.items()}
