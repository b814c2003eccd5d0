"""A bulk send: one uploaded CSV of events for one app, checked, then queued in batches.

Registered through events/models.py (imported at its bottom), like monitoring's models. The app is
named by its label ("events.App") so that this module imports nothing from events/models.py.
"""

from django.conf import settings
from django.db import models


class BulkSend(models.Model):
    """A CSV of events for one app: checked first (a report, nothing sent), then queued in
    streaming batches while its progress is followed live; cancellable."""

    class State(models.TextChoices):
        CHECKING = "checking", "Checking"
        CHECKED = "checked", "Checked"
        QUEUEING = "queueing", "Queueing"
        QUEUED = "queued", "All queued"
        CANCELLED = "cancelled", "Cancelled"
        ERROR = "error", "Error"

    app = models.ForeignKey("events.App", on_delete=models.PROTECT, related_name="bulk_sends")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file = models.FileField(upload_to="bulk/%Y/%m/")
    filename = models.CharField(max_length=255)
    state = models.CharField(max_length=10, choices=State.choices, default=State.CHECKING)
    total_rows = models.PositiveIntegerField(default=0)
    valid_rows = models.PositiveIntegerField(default=0)
    invalid_rows = models.PositiveIntegerField(default=0)
    guarded_rows = models.PositiveIntegerField(
        default=0, help_text="Rows Adjust would refuse (order or age)."
    )
    checked_rows = models.PositiveIntegerField(default=0)
    production_rows = models.PositiveIntegerField(
        default=0, help_text="Valid rows for production (real data): sending them asks first."
    )
    queued_rows = models.PositiveIntegerField(default=0)
    problems = models.JSONField(
        default=list, blank=True, help_text="[{line, errors}], the first few hundred."
    )
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_state_display()})"
