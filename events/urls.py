from django.urls import path

from events import views

urlpatterns = [
    path("health/", views.health, name="health"),
]
