"""CSV bulk sends: upload and list, a bulk's report and live progress, start, cancel, results."""

from django.urls import path

from events.views import bulk

urlpatterns = [
    path("", bulk.bulk_list, name="bulk"),
    path("upload/", bulk.bulk_upload, name="bulk_upload"),
    path("template/<int:pk>.csv", bulk.bulk_template, name="bulk_template"),
    path("<int:pk>/", bulk.bulk_detail, name="bulk_detail"),
    path("<int:pk>/progress/", bulk.bulk_progress, name="bulk_progress"),
    path("<int:pk>/start/", bulk.bulk_start, name="bulk_start"),
    path("<int:pk>/cancel/", bulk.bulk_cancel, name="bulk_cancel"),
    path("<int:pk>/results.csv", bulk.bulk_results, name="bulk_results"),
]
