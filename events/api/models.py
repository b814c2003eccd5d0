"""The API's rows: API keys (stored as keyed hashes) and the answers kept for Idempotency-Key replays.

Registered through events/models.py (imported at its bottom), like monitoring's models. The app is
named by its label ("events.App") so that this module imports nothing from events/models.py.
"""

from django.conf import settings
from django.db import models


class ApiKey(models.Model):
    """A key a backend uses for the ingestion API: shown once, stored only as a keyed hash, scoped
    to some apps, revocable."""

    name = models.CharField(max_length=100)
    # The first characters of the key, stored plainly to find the row and to tell keys apart.
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    apps = models.ManyToManyField("events.App", related_name="api_keys")
    rate_limit_per_minute = models.PositiveIntegerField(default=600)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class ApiRequest(models.Model):
    """The answer to a request sent with an Idempotency-Key: the same key gets the same answer."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    idempotency_key = models.CharField(max_length=200)
    body_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "idempotency_key"], name="unique_api_idempotency_key")
        ]

    def __str__(self) -> str:
        return f"{self.idempotency_key} ({self.status_code})"
