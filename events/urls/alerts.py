"""Alerts: incidents (everyone who reads the log), acknowledging and muting them, and the channels
alerts go to (admins)."""

from django.urls import path

from events.views import alerts

INCIDENT = "incidents/<int:pk>/"
CHANNEL = "channels/<int:pk>/"

urlpatterns = [
    path("", alerts.alerts, name="alerts"),
    path(INCIDENT + "acknowledge/", alerts.incident_acknowledge, name="incident_acknowledge"),
    path(INCIDENT + "mute/", alerts.incident_mute, name="incident_mute"),
    path(INCIDENT + "unmute/", alerts.incident_unmute, name="incident_unmute"),
    path("channels/", alerts.channels, name="alert_channels"),
    path("channels/new/", alerts.channel_create, name="alert_channel_create"),
    path(CHANNEL + "test/", alerts.channel_test, name="alert_channel_test"),
    path(CHANNEL + "delete/", alerts.channel_delete, name="alert_channel_delete"),
]
