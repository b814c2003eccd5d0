"""No trailing slashes: a sender with ADJUST_BASE_URL=http://host/emulator/adjust appends /event."""

from django.urls import path

from events.emulator import views

app_name = "emulator"

urlpatterns = [
    path("adjust/event", views.adjust_event, name="adjust_event"),
    path("adjust/gdpr_forget_device", views.adjust_gdpr_forget_device, name="adjust_gdpr_forget_device"),
    path("tenjin/v0/event", views.tenjin_event, name="tenjin_event"),
    path("tenjin/v0/purchase", views.tenjin_purchase, name="tenjin_purchase"),
]
