"""Result callbacks: where an app's final results go (CallbackEndpoint), one outbox row per
delivery's final result (Callback), and each try to post it (CallbackAttempt)."""

import uuid

from django.db import models
from django.utils import timezone

from events.choices import Outcome
from events.secrets import EncryptedTextField


class CallbackEndpoint(models.Model):
    """An app's result callback: its URL, and the signing secret (Standard Webhooks' whsec_...)
    made by s2sadmin, encrypted at rest and shown in full only once."""

    app = models.OneToOneField("events.App", on_delete=models.CASCADE, related_name="callback_endpoint")
    url = models.URLField(max_length=2000)
    secret = EncryptedTextField()
    secret_last4 = models.CharField(max_length=4, editable=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Result callback of {self.app_id}: {self.url}"

    def save(self, *args, **kwargs):
        self.secret_last4 = self.secret[-4:] if len(self.secret) >= 8 else ""
        super().save(*args, **kwargs)

    @property
    def secret_masked(self) -> str:
        return f"whsec_••••{self.secret_last4}" if self.secret_last4 else "••••"


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


class Callback(models.Model):
    """One delivery's final result to post to its app's endpoint: the outbox row, written with the
    batch that finished the delivery and enqueued after it commits."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        RETRYING = "retrying", "Retrying"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    delivery = models.OneToOneField("events.Delivery", on_delete=models.CASCADE, related_name="callback")
    endpoint = models.ForeignKey(
        CallbackEndpoint, null=True, on_delete=models.SET_NULL, related_name="callbacks"
    )
    # Standard Webhooks' webhook-id: the same for every try of one message, so receivers dedupe.
    message_id = models.CharField(max_length=40, unique=True, default=new_message_id)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # The exact body, made at the first try and posted byte for byte on every later one (a JSON
    # column would reorder its keys).
    body = models.TextField(blank=True)
    last_explanation = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="callback_state_due")]

    def __str__(self) -> str:
        return f"Callback {self.message_id} ({self.state})"


class CallbackAttempt(models.Model):
    """One try to post a callback, kept like an MMP attempt: the exact request and the answer."""

    callback = models.ForeignKey(Callback, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    url = models.TextField()
    request_headers = models.JSONField(default=dict)
    request_body = models.TextField(blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    explanation = models.TextField(blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["callback", "number"]
        constraints = [
            models.UniqueConstraint(fields=["callback", "number"], name="unique_callback_attempt_number")
        ]

    def __str__(self) -> str:
        return f"Try {self.number} of {self.callback_id}"
