"""A bulk resend and its items (imported by events/models.py so that Django finds them).

The items are the plan the preview showed, one per selected delivery, and then what became of
each: the job marks an item done in the same transaction that queues its copy, so a job run again
after a crash never resends an original twice.
"""

from django.conf import settings
from django.db import models


class BulkResend(models.Model):
    """Deliveries chosen in the request log, previewed, confirmed, then resent by a job."""

    class State(models.TextChoices):
        PREVIEWED = "previewed", "Waiting for confirmation"
        QUEUEING = "queueing", "Queueing"
        QUEUED = "queued", "All queued"
        ERROR = "error", "Error"

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What was chosen: the log's filters as a query string ("all matching"), or "" for rows ticked.
    filters = models.CharField(max_length=2000, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PREVIEWED)
    total = models.PositiveIntegerField(default=0)
    production = models.PositiveIntegerField(default=0, help_text="Planned resends of production events.")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Bulk resend {self.pk} of {self.total} deliveries ({self.get_state_display()})"


class ResendItem(models.Model):
    """One chosen delivery: what the preview planned for it, then what was done."""

    class Plan(models.TextChoices):
        RESEND = "resend", "Resend"
        RETRY = "retry", "Retry now"  # still retrying: its next attempt is brought forward, no copy
        SKIP = "skip", "Skip"  # already on its way, or a resend of it is
        REFUSE = "refuse", "Refused"  # the MMP would refuse it (its rules, asked of the provider)

    class Outcome(models.TextChoices):
        PENDING = "", "Not done yet"
        QUEUED = "queued", "Resent"
        RETRIED = "retried", "Retried now"
        SKIPPED = "skipped", "Skipped"
        REFUSED = "refused", "Refused"

    bulk_resend = models.ForeignKey(BulkResend, on_delete=models.CASCADE, related_name="items")
    original = models.ForeignKey("events.Delivery", on_delete=models.CASCADE, related_name="+")
    plan = models.CharField(max_length=10, choices=Plan.choices)
    # The rule behind a refusal or skip ("age", "order", "inactive", "on_its_way"), and its words.
    rule = models.CharField(max_length=20, blank=True)
    reason = models.TextField(blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True, default="")
    resend = models.ForeignKey(
        "events.Delivery", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bulk_resend", "original"], name="unique_resend_item")]
        indexes = [models.Index(fields=["bulk_resend", "outcome"], name="resend_item_outcome")]

    def __str__(self) -> str:
        return f"Delivery {self.original_id}: {self.plan} ({self.outcome or 'pending'})"
