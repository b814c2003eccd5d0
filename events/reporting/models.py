"""The overview's rollups, hourly and daily (written by events/reporting/rollups.py, read by
figures.py, purged by events/engine/retention.py).

Imported by events/models.py so that Django finds them in the events app.
"""

from django.db import models


class OutcomeCounts(models.Model):
    """Deliveries that reached a status, for one app and reason, in one hour or day of their creation."""

    app = models.ForeignKey("events.App", on_delete=models.CASCADE, related_name="+")
    provider = models.CharField(max_length=20)
    test = models.BooleanField(help_text="Test traffic: sent from the test form.")
    # delivered, failed, dead (final: counted in `deliveries`) or retrying (an attempt, no delivery).
    status = models.CharField(max_length=10)
    reason = models.CharField(max_length=200, blank=True, help_text="The MMP's words or the error, cut.")
    deliveries = models.BigIntegerField(default=0, help_text="Deliveries that reached this final status.")
    attempts = models.BigIntegerField(default=0, help_text="HTTP attempts that led to this status.")

    class Meta:
        abstract = True


class LatencyCounts(models.Model):
    """How many attempts of one hour or day and app took as long as one latency bucket (rollups.BOUNDS)."""

    app = models.ForeignKey("events.App", on_delete=models.CASCADE, related_name="+")
    provider = models.CharField(max_length=20)
    test = models.BooleanField()
    bucket = models.PositiveSmallIntegerField(help_text="Index into rollups.BOUNDS; past the end: slower.")
    attempts = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class OutcomeRollup(OutcomeCounts):
    hour = models.DateTimeField(help_text="The hour the deliveries were created in (UTC, on the hour).")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["hour", "app", "provider", "test", "status", "reason"], name="outcome_rollup_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H:00} app {self.app_id} {self.status}: {self.deliveries}"


class LatencyRollup(LatencyCounts):
    hour = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["hour", "app", "provider", "test", "bucket"], name="latency_rollup_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H:00} app {self.app_id} bucket {self.bucket}: {self.attempts}"


class DailyOutcomeRollup(OutcomeCounts):
    """The hourly rows of one UTC day added up: what ranges of many days read (and kept longer)."""

    day = models.DateField(help_text="The UTC day the deliveries were created on.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "app", "provider", "test", "status", "reason"], name="daily_outcome_rollup_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} app {self.app_id} {self.status}: {self.deliveries}"


class DailyLatencyRollup(LatencyCounts):
    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "app", "provider", "test", "bucket"], name="daily_latency_rollup_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} app {self.app_id} bucket {self.bucket}: {self.attempts}"
