"""What monitoring keeps: each app's alert rules and canary, the incidents, and where alerts go.

Registered through events/models.py (imported at its bottom), like the reporting rollups.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from events.secrets import MASK, EncryptedTextField


class Rule(models.TextChoices):
    SUCCESS_RATE = "success_rate", "Success rate below its threshold"
    PERMANENT_FAILURES = "permanent_failures", "Permanent failures in a row"
    AUTH_REFUSED = "auth_refused", "The MMP refuses the credentials (401/403)"
    WAITING = "waiting", "Deliveries waiting too long"
    NO_WORKER = "no_worker", "No live send worker"
    CANARY = "canary", "Canary failing"
    HOST_PAUSED = "host_paused", "Sends to an MMP host paused"


class AlertRules(models.Model):
    """One app's rules; an app without a row is watched with these defaults."""

    app = models.OneToOneField("events.App", on_delete=models.CASCADE, related_name="alert_rules")
    success_rate_enabled = models.BooleanField("Watch the success rate", default=True)
    success_rate_threshold = models.PositiveSmallIntegerField(
        "Success rate threshold (%)", default=90, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    success_rate_window_minutes = models.PositiveIntegerField(
        "Success rate window (minutes)",
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(1440)],
    )
    success_rate_min_deliveries = models.PositiveIntegerField(
        "Judged from (finished deliveries)",
        default=20,
        validators=[MinValueValidator(1)],
        help_text="Fewer finished deliveries in the window say nothing either way.",
    )
    permanent_failures_enabled = models.BooleanField("Watch permanent failures in a row", default=True)
    permanent_failures_in_row = models.PositiveIntegerField(
        "Permanent failures in a row", default=5, validators=[MinValueValidator(1), MaxValueValidator(1000)]
    )
    auth_refused_enabled = models.BooleanField("Alert at once on 401/403 from the MMP", default=True)
    waiting_enabled = models.BooleanField("Watch deliveries waiting", default=True)
    waiting_minutes = models.PositiveIntegerField(
        "Waiting longer than (minutes)",
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(10080)],
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "alert rules"

    def __str__(self) -> str:
        return f"Alert rules of {self.app}"


class Canary(models.Model):
    """A synthetic event sent for one app every few minutes, to find out before real events do."""

    app = models.OneToOneField("events.App", on_delete=models.CASCADE, related_name="canary")
    enabled = models.BooleanField("Send a canary", default=False)
    every_minutes = models.PositiveIntegerField(
        "Every (minutes)", default=15, validators=[MinValueValidator(1), MaxValueValidator(1440)]
    )
    event_token = models.ForeignKey(
        "events.EventToken", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    device_id_type = models.CharField("Test device id type", max_length=40, blank=True)
    device_id = models.CharField("Test device id", max_length=255, blank=True)
    last_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Why the last canary could not even be queued (the event is invalid), for the app's page.
    last_error = models.TextField(blank=True, editable=False)

    class Meta:
        verbose_name_plural = "canaries"

    def __str__(self) -> str:
        return f"Canary of {self.app}"


class Incident(models.Model):
    """One stretch of time a rule's condition held for one subject (an app, a host, the workers)."""

    rule = models.CharField(max_length=30, choices=Rule.choices)
    # What it is about, e.g. "app:12", "host:s2s.adjust.com", "workers": one open incident each.
    subject = models.CharField(max_length=300)
    app = models.ForeignKey(
        "events.App", null=True, blank=True, on_delete=models.CASCADE, related_name="incidents"
    )
    title = models.CharField(max_length=300)
    # The condition in plain words, as last seen.
    detail = models.TextField(blank=True)
    # The request log's filters for the deliveries behind it, from `deliveries_since` on.
    log_filters = models.JSONField(default=dict, blank=True)
    deliveries_since = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # No messages about it (nor about the same rule and subject opening again) until then.
    muted_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "subject"],
                condition=models.Q(resolved_at__isnull=True),
                name="one_open_incident_per_rule_and_subject",
            )
        ]
        indexes = [models.Index(fields=["resolved_at", "-opened_at"], name="incident_open_time")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    def is_muted(self, now=None) -> bool:
        return self.muted_until is not None and self.muted_until > (now or timezone.now())


class ChannelKind(models.TextChoices):
    EMAIL = "email", "Email"
    SLACK = "slack", "Slack-compatible incoming webhook"
    WEBHOOK = "webhook", "Signed JSON webhook"


class AlertChannel(models.Model):
    """Where incidents are told: email addresses, or a webhook URL (whose path may be its secret)."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=ChannelKind.choices)
    # Comma-separated addresses, or the URL; encrypted: a Slack URL is a credential.
    target = EncryptedTextField()
    target_shown = models.CharField(max_length=300, editable=False)
    # Signs the generic webhook's body (Standard Webhooks: HMAC-SHA256); blank for the others.
    signing_secret = EncryptedTextField(blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.target_shown = shown_target(self.kind, self.target)
        super().save(*args, **kwargs)


def shown_target(kind: str, target: str) -> str:
    """What pages show of a channel's target: addresses as they are, a URL's host only."""
    if kind == ChannelKind.EMAIL:
        return ", ".join(email_addresses(target))[:300]
    parts = urlsplit(target)
    return f"{parts.scheme}://{parts.hostname or '?'}/{MASK}{target[-4:] if len(target) >= 8 else ''}"


def email_addresses(target: str) -> list[str]:
    return [address.strip() for address in target.replace(";", ",").split(",") if address.strip()]
