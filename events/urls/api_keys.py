"""API keys for the ingestion API, managed by admins."""

from django.urls import path

from events.views import api_keys

urlpatterns = [
    path("", api_keys.api_key_list, name="api_keys"),
    path("new/", api_keys.api_key_create, name="api_key_create"),
    path("<int:pk>/revoke/", api_keys.api_key_revoke, name="api_key_revoke"),
]
