"""What each user keeps for themself: saved views of the request log, and preferences.

Imported by events/models.py so that Django finds them in the events app.
"""

from django.conf import settings
from django.db import models


class SavedView(models.Model):
    """A user's named set of request-log filters, listed in the log's header."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=80)
    # The log's filters as a query string (events.forms.log.LogFilterForm fields only).
    query = models.CharField(max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="unique_saved_view_name_per_user")
        ]

    def __str__(self) -> str:
        return self.name


class Preferences(models.Model):
    """What a user chose for themself; a missing row means not chosen yet (they are asked once)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences"
    )
    # An IANA zone name ("Europe/Paris"); every time on every page is shown in it.
    time_zone = models.CharField(max_length=64, default="UTC")

    class Meta:
        verbose_name_plural = "preferences"

    def __str__(self) -> str:
        return f"{self.user} ({self.time_zone})"
