"""URLs by concept: the daily dashboard (overview, send, log, deliveries) and management (apps,
tokens, users, audit) for admins."""

from django.urls import include, path

from events import views

urlpatterns = [
    path("health/", views.health, name="health"),
    path("manage/", include("events.urls.manage")),
    path("", include("events.urls.dashboard")),
]
