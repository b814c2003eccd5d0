from django.urls import path

from events.views import overview

urlpatterns = [
    path("", overview.overview, name="overview"),
]
