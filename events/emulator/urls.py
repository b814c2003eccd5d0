"""No trailing slashes: a sender with ADJUST_BASE_URL=http://host/emulator/adjust appends /event."""

from django.urls import path

from events.emulator import views

app_name = "emulator"

urlpatterns = [
    path("adjust/event", views.adjust_event, name="adjust_event"),
    path("adjust/gdpr_forget_device", views.adjust_gdpr_forget_device, name="adjust_gdpr_forget_device"),
    path("tenjin/v0/event", views.tenjin_event, name="tenjin_event"),
    path("tenjin/v0/purchase", views.tenjin_purchase, name="tenjin_purchase"),
    path("appsflyer/inappevent/<str:app_id>", views.appsflyer_event, name="appsflyer_event"),
    path("singular/api/v1/evt", views.singular_event, name="singular_event_v1"),
    path("singular/api/v2/evt", views.singular_event, name="singular_event_v2"),
    path("singular/api/v1/launch", views.singular_launch, name="singular_launch"),
    # UNCONFIRMED: only v1/launch is documented; a v2 session on sdid follows the events' pattern.
    path("singular/api/v2/launch", views.singular_launch, name="singular_launch_v2"),
]
