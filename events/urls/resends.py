"""Bulk resends: chosen in the request log, previewed, confirmed, followed."""

from django.urls import path

from events.views import resends

urlpatterns = [
    path("new/", resends.resend_preview, name="bulk_resend_preview"),
    path("<int:pk>/", resends.bulk_resend, name="bulk_resend"),
    path("<int:pk>/progress/", resends.bulk_resend_progress, name="bulk_resend_progress"),
    path("<int:pk>/start/", resends.bulk_resend_start, name="bulk_resend_start"),
]
