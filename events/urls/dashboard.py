"""The daily dashboard: overview, the test-event console, the request log, deliveries, compare."""

from django.urls import path

from events.views import compare, console, deliveries, log, overview, saved_views

urlpatterns = [
    path("", overview.overview, name="overview"),
    path("send/", console.send, name="send"),
    path("send/preview/", console.preview, name="send_preview"),
    path("log/", log.log, name="log"),
    path("log/export.csv", log.export, name="log_export"),
    path("log/views/", saved_views.saved_view_save, name="saved_view_save"),
    path("log/views/<int:pk>/delete/", saved_views.saved_view_delete, name="saved_view_delete"),
    path("deliveries/<int:pk>/", deliveries.delivery, name="delivery"),
    path("deliveries/<int:pk>/status/", deliveries.status, name="delivery_status"),
    path("deliveries/<int:pk>/resend/", deliveries.resend, name="delivery_resend"),
    path("deliveries/<int:pk>/retry/", deliveries.retry, name="delivery_retry"),
    path("deliveries/<int:pk>/clone/", deliveries.clone, name="delivery_clone"),
    path("attempts/<int:pk>/response/", deliveries.attempt_response, name="attempt_response"),
    path("compare/", compare.compare, name="compare"),
]
