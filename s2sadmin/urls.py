from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from events.accounts.lockout import SignInView
from events.views import account, preferences

urlpatterns = [
    path("login/", SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/password/", account.PasswordChangeView.as_view(), name="password_change"),
    path("account/time-zone/", preferences.time_zone, name="time_zone"),
    # One door, throttled: the admin's own login page sends people to the one above, and those
    # signed in without the admin's role to a page that says so.
    path("admin/login/", account.admin_login, name="admin_login_redirect"),
    path("admin/", admin.site.urls),
    path("emulator/", include("events.emulator.urls")),
    path("", include("events.urls")),
]
