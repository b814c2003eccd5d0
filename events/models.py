"""Apps and their tokens, and the delivery log: one Delivery per event, one Attempt per HTTP try."""

import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

from events.choices import (
    FINAL_STATUSES,
    PENDING_STATUSES,
    Environment,
    EventKind,
    Outcome,
    Platform,
    Provider,
    Source,
    Status,
)
from events.secrets import EncryptedTextField, mask


class App(models.Model):
    name = models.CharField(max_length=100, unique=True)
    provider = models.CharField(max_length=20, choices=Provider.choices)
    platform = models.CharField(max_length=20, choices=Platform.choices)
    # The MMP's secret for this app (Adjust app token, Tenjin or Singular SDK key, AppsFlyer S2S
    # token): what each calls it is its provider's key_label.
    app_key = EncryptedTextField()
    app_key_last4 = models.CharField(max_length=4, editable=False)
    # The bundle id or package name; the app id for AppsFlyer (id123456789 on iOS).
    bundle_id = models.CharField(max_length=255, blank=True)
    # Which of the MMP's APIs the app uses, where it offers two (Singular: v2 matches on sdid, v1 on
    # advertising ids); blank for the provider's default.
    api_version = models.CharField(max_length=10, blank=True)
    default_environment = models.CharField(
        max_length=20, choices=Environment.choices, default=Environment.SANDBOX
    )
    active = models.BooleanField(default=True)
    # At most this many events a second to the MMP for this app, across all workers; blank: the
    # MMP's published limit if it has one (the provider's published_rate_per_second), else none.
    max_events_per_second = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Leave blank for the MMP's published limit, if any.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.app_key_last4 = self.app_key[-4:] if len(self.app_key) >= 8 else ""
        super().save(*args, **kwargs)

    @property
    def app_key_masked(self) -> str:
        return mask(self.app_key)

    def active_security_token(self) -> "SecurityToken | None":
        # Kept on the instance: a batch of sends (or a bulk validation) asks once per app.
        if not hasattr(self, "_active_security_token"):
            self._active_security_token = (
                self.security_tokens.filter(active=True).order_by("-created_at").first()
            )
        return self._active_security_token


class EventToken(models.Model):
    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="event_tokens")
    name = models.CharField(max_length=100, help_text="A readable name, e.g. 'Purchase'.")
    # The Adjust event token (e.g. f0ob4r), or the Tenjin event name.
    token = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=EventKind.choices, default=EventKind.EVENT)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["app", "token"], name="unique_event_token_per_app")]

    def __str__(self) -> str:
        return f"{self.name} ({self.token})"

    @property
    def archived(self) -> bool:
        return self.archived_at is not None

    def delete_or_archive(self) -> str:
        """A token that has been sent stays, archived, so its deliveries keep their meaning."""
        if self.deliveries.exists():
            self.archived_at = timezone.now()
            self.save(update_fields=["archived_at"])
            return "archived"
        self.delete()
        return "deleted"


class SecurityToken(models.Model):
    """An Adjust S2S Security token: sent as `Authorization: Bearer <token>` while active."""

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="security_tokens")
    label = models.CharField(max_length=100)
    value = EncryptedTextField()
    value_last4 = models.CharField(max_length=4, editable=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.label} ({self.masked})"

    def save(self, *args, **kwargs):
        self.value_last4 = self.value[-4:] if len(self.value) >= 8 else ""
        super().save(*args, **kwargs)

    @property
    def masked(self) -> str:
        return f"••••{self.value_last4}" if self.value_last4 else "••••"


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


class Delivery(models.Model):
    """One event to send, whatever its source; the job that sends it claims it first."""

    app = models.ForeignKey(App, on_delete=models.PROTECT, related_name="deliveries")
    event_token = models.ForeignKey(EventToken, on_delete=models.PROTECT, related_name="deliveries")
    source = models.CharField(max_length=10, choices=Source.choices)
    # The validated event parameters as the MMP names them; never a secret (those are added
    # when the request is built).
    params = models.JSONField(default=dict)
    environment = models.CharField(max_length=20, choices=Environment.choices)
    device_id_type = models.CharField(max_length=40, blank=True)
    device_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    last_http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_message = models.TextField(blank=True)
    last_explanation = models.TextField(blank=True)
    last_duration_ms = models.FloatField(null=True, blank=True)
    # The MMP may have recorded an attempt whose answer we did not get (5xx, read timeout):
    # a later successful attempt may then be a duplicate.
    ambiguous = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    idempotency_key = models.CharField(max_length=100, default=new_idempotency_key)
    resent_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="resends"
    )
    bulk_send = models.ForeignKey(
        "BulkSend", null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    bulk_line = models.PositiveIntegerField(null=True, blank=True, help_text="Its line in the uploaded CSV.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Which job run claimed it: lets one query claim a whole batch and find what it got.
    claim_token = models.CharField(max_length=32, blank=True)
    # The RQ worker that claimed it, so a reconciler can tell a dead worker's claims.
    claimed_by = models.CharField(max_length=200, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Deliveries of one order key go out one at a time, in (event_time, id) order; the provider
    # chooses the key (events/providers/base.py, order_key), '' for none. event_time is the
    # event's own time where the MMP takes one, else when s2sadmin received it.
    order_key = models.CharField(max_length=320, blank=True)
    event_time = models.DateTimeField(null=True, blank=True)
    # The latest values an attempt's answer carried (each attempt keeps its own).
    # SKAdNetwork values the MMP's answer carried (Adjust, iOS 14+): fine 0-63, coarse
    # low/medium/high, lock window; the backend passes them on to the app.
    skan_fine_value = models.PositiveSmallIntegerField(null=True, blank=True)
    # A default in the database too: rows loaded by SQL (benchmarks, imports) need not name it.
    skan_coarse_value = models.CharField(max_length=10, blank=True, default="", db_default="")
    skan_lock_window = models.BooleanField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-created_at", "-id"]
        permissions = [("send_event", "Can send test events and resend deliveries")]
        constraints = [
            models.UniqueConstraint(fields=["app", "idempotency_key"], name="unique_idempotency_key_per_app")
        ]
        indexes = [
            # The unfiltered log and the overview's time windows read newest first.
            models.Index(fields=["-created_at", "-id"], name="delivery_time"),
            models.Index(fields=["app", "-created_at"], name="delivery_app_time"),
            # An old event token's rows sit far down the time index: the log filters by this one.
            models.Index(fields=["event_token", "-created_at"], name="delivery_event_time"),
            models.Index(fields=["status", "-created_at"], name="delivery_status_time"),
            models.Index(fields=["device_id", "-created_at"], name="delivery_device_time"),
            models.Index(fields=["status", "next_attempt_at"], name="delivery_status_due"),
            # "Is an older one of this key still on its way?", asked for every claim: only the
            # pending rows are indexed, so it stays small however long the log grows.
            models.Index(
                fields=["order_key", "event_time", "id"],
                name="delivery_order_pending",
                condition=models.Q(status__in=PENDING_STATUSES),
            ),
            # The log's SKAN filter: only the deliveries whose answer carried SKAN values, in time order.
            models.Index(
                fields=["-created_at", "-id"],
                name="delivery_skan_time",
                condition=models.Q(skan_fine_value__isnull=False) | ~models.Q(skan_coarse_value=""),
            ),
            # The search box's trigram index is PostgreSQL-only, so it lives in migration 0009 alone.
        ]

    def __str__(self) -> str:
        return f"Delivery {self.pk} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def is_test(self) -> bool:
        return self.source == Source.FORM

    @property
    def is_canary(self) -> bool:
        return self.source == Source.CANARY

    @property
    def has_skan(self) -> bool:
        return skan_values(self) is not None


def skan_values(row: "Delivery | Attempt") -> dict | None:
    """The SKAdNetwork values a delivery's (or an attempt's) answer carried, as the API and the
    result callbacks give them; None when it carried none."""
    if row.skan_fine_value is None and not row.skan_coarse_value and row.skan_lock_window is None:
        return None
    return {
        "fine_value": row.skan_fine_value,
        "coarse_value": row.skan_coarse_value or None,
        "lock_window": row.skan_lock_window,
    }


class Attempt(models.Model):
    """One HTTP try, written before sending and completed after; secrets masked before saving."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    method = models.CharField(max_length=10)
    url = models.TextField()
    request_headers = models.JSONField(default=dict)
    request_body = models.TextField(blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_headers = models.JSONField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    response_truncated = models.BooleanField(default=False)
    duration_ms = models.FloatField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    ambiguous = models.BooleanField(default=False)
    mmp_message = models.TextField(blank=True)
    explanation = models.TextField(blank=True)
    error = models.TextField(blank=True, help_text="What went wrong on the network, if anything.")
    # SKAdNetwork values the MMP's answer carried (Adjust, iOS 14+): fine 0-63, coarse
    # low/medium/high, lock window; the backend passes them on to the app.
    skan_fine_value = models.PositiveSmallIntegerField(null=True, blank=True)
    # A default in the database too: rows loaded by SQL (benchmarks, imports) need not name it.
    skan_coarse_value = models.CharField(max_length=10, blank=True, default="", db_default="")
    skan_lock_window = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="unique_attempt_number")]

    def __str__(self) -> str:
        return f"Attempt {self.number} of delivery {self.delivery_id}"


class OrderMark(models.Model):
    """The newest event time Adjust accepted per (app, device, event token): Adjust rejects an
    older one, so s2sadmin refuses it before it goes out."""

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="+")
    event_token = models.ForeignKey(EventToken, on_delete=models.CASCADE, related_name="+")
    device_id = models.CharField(max_length=255)
    newest_event_time = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["app", "event_token", "device_id"], name="unique_order_mark")
        ]

    def __str__(self) -> str:
        return f"{self.device_id} / {self.event_token_id}: {self.newest_event_time:%Y-%m-%d %H:%M:%S}"


# A user's own settings live with the accounts code; the API's keys, the audit trail, bulk sends,
# monitoring's tables (alert rules, canaries, incidents, channels), the overview's rollups, bulk
# resends and the result callbacks' rows live with theirs. Imported here so Django registers them
# and so `from events.models import X` works for every model of the app.
from events.accounts.models import Preferences, SavedView  # noqa: E402, F401
from events.api.models import ApiKey, ApiRequest  # noqa: E402, F401
from events.audit.models import AuditEntry  # noqa: E402, F401
from events.bulk.models import BulkSend  # noqa: E402, F401
from events.callbacks.models import Callback, CallbackAttempt, CallbackEndpoint  # noqa: E402, F401
from events.monitoring.models import AlertChannel, AlertRules, Canary, Incident  # noqa: E402, F401
from events.reporting.models import (  # noqa: E402, F401
    DailyLatencyRollup,
    DailyOutcomeRollup,
    LatencyRollup,
    OutcomeRollup,
)
from events.resend.models import BulkResend, ResendItem  # noqa: E402, F401
