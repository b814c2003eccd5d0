"""The overview's hourly rollups (written by events/reporting/rollups.py, read by figures.py).

Imported by events/models.py so that Django finds them in the events app.
"""

from django.db import models


class OutcomeRollup(models.Model):
    """Deliveries that reached a status in one hour of their creation, for one app and reason."""

    hour = models.DateTimeField(help_text="The hour the deliveries were created in (UTC, on the hour).")
    app = models.ForeignKey("events.App", on_delete=models.CASCADE, related_name="+")
    provider = models.CharField(max_length=20)
    test = models.BooleanField(help_text="Test traffic: sent from the test form.")
    # delivered, failed, dead (final: counted in `deliveries`) or retrying (an attempt, no delivery).
    status = models.CharField(max_length=10)
    reason = models.CharField(max_length=200, blank=True, help_text="The MMP's words or the error, cut.")
    deliveries = models.BigIntegerField(default=0, help_text="Deliveries that reached this final status.")
    attempts = models.BigIntegerField(default=0, help_text="HTTP attempts that led to this status.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["hour", "app", "provider", "test", "status", "reason"], name="outcome_rollup_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H:00} app {self.app_id} {self.status}: {self.deliveries}"


class LatencyRollup(models.Model):
    """How many attempts of one hour and app took as long as one latency bucket (rollups.BOUNDS)."""

    hour = models.DateTimeField()
    app = models.ForeignKey("events.App", on_delete=models.CASCADE, related_name="+")
    provider = models.CharField(max_length=20)
    test = models.BooleanField()
    bucket = models.PositiveSmallIntegerField(help_text="Index into rollups.BOUNDS; past the end: slower.")
    attempts = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["hour", "app", "provider", "test", "bucket"], name="latency_rollup_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H:00} app {self.app_id} bucket {self.bucket}: {self.attempts}"
