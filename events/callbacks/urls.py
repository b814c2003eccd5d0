from django.urls import path

from events.callbacks import views

urlpatterns = [
    path("", views.endpoint, name="callback_endpoint"),
    path("save/", views.endpoint_save, name="callback_endpoint_save"),
    path("rotate/", views.endpoint_rotate, name="callback_endpoint_rotate"),
    path("deactivate/", views.endpoint_set_active, {"active": False}, name="callback_endpoint_deactivate"),
    path("reactivate/", views.endpoint_set_active, {"active": True}, name="callback_endpoint_reactivate"),
]
