"""Management pages, for admins: apps with their event and security tokens, users, the audit trail."""

from django.urls import path

from events.views import alerts, apps, audit, event_tokens, security_tokens, users

APP = "apps/<int:pk>/"
EVENT_TOKEN = APP + "event-tokens/<int:token_pk>/"
SECURITY_TOKEN = APP + "security-tokens/<int:token_pk>/"

urlpatterns = [
    path("apps/", apps.app_list, name="apps"),
    path("apps/new/", apps.app_create, name="app_create"),
    path(APP, apps.app_detail, name="app_detail"),
    path(APP + "edit/", apps.app_edit, name="app_edit"),
    path(APP + "alerts/", alerts.app_alerts, name="app_alerts"),
    path(APP + "deactivate/", apps.app_set_active, {"active": False}, name="app_deactivate"),
    path(APP + "reactivate/", apps.app_set_active, {"active": True}, name="app_reactivate"),
    path(APP + "event-tokens/add/", event_tokens.event_token_add, name="event_token_add"),
    path(APP + "event-tokens/import/", event_tokens.event_token_import, name="event_token_import"),
    path(
        APP + "event-tokens/import/confirm/",
        event_tokens.event_token_import_confirm,
        name="event_token_import_confirm",
    ),
    path(APP + "event-tokens.csv", event_tokens.event_token_export, name="event_token_export"),
    path(EVENT_TOKEN + "rename/", event_tokens.event_token_rename, name="event_token_rename"),
    path(EVENT_TOKEN + "remove/", event_tokens.event_token_remove, name="event_token_remove"),
    path(EVENT_TOKEN + "restore/", event_tokens.event_token_restore, name="event_token_restore"),
    path(APP + "security-tokens/", security_tokens.security_tokens, name="security_tokens"),
    path(APP + "security-tokens/add/", security_tokens.security_token_add, name="security_token_add"),
    path(
        APP + "security-tokens/rotate/", security_tokens.security_token_rotate, name="security_token_rotate"
    ),
    path(
        SECURITY_TOKEN + "activate/", security_tokens.security_token_activate, name="security_token_activate"
    ),
    path(
        SECURITY_TOKEN + "deactivate/",
        security_tokens.security_token_deactivate,
        name="security_token_deactivate",
    ),
    path("users/", users.user_list, name="users"),
    path("users/new/", users.user_create, name="user_create"),
    path("users/<int:pk>/", users.user_edit, name="user_edit"),
    path("users/<int:pk>/password/", users.user_password, name="user_password"),
    path("users/<int:pk>/sign-out/", users.user_sign_out, name="user_sign_out"),
    path("users/<int:pk>/unlock/", users.user_unlock, name="user_unlock"),
    path("users/unlock-address/", users.address_unlock, name="address_unlock"),
    path("users/<int:pk>/deactivate/", users.user_set_active, {"active": False}, name="user_deactivate"),
    path("users/<int:pk>/reactivate/", users.user_set_active, {"active": True}, name="user_reactivate"),
    path("audit/", audit.audit_list, name="audit"),
]
