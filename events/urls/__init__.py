"""URLs by concept: the daily dashboard (overview, send, log, deliveries) and management (apps,
tokens, users, audit) for admins, alerts."""

from django.urls import include, path

from events import views
from events.api.urls import urls as api_urls
from events.metrics.views import metrics
from events.readiness.views import ready

urlpatterns = [
    path("health/", views.health, name="health"),
    path("ready/", ready, name="ready"),
    path("metrics", metrics, name="metrics"),
    path("api/v1/", api_urls()),
    path("manage/apps/<int:pk>/callback/", include("events.callbacks.urls")),
    path("manage/", include("events.urls.manage")),
    path("bulk/", include("events.urls.bulk")),
    path("resends/", include("events.urls.resends")),
    path("manage/api-keys/", include("events.urls.api_keys")),
    path("alerts/", include("events.urls.alerts")),
    path("", include("events.urls.dashboard")),
]
