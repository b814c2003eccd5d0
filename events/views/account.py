"""The signed-in user's own account (change the password), and the door to Django's admin."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy

from events import audit


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's own view (it keeps this session signed in, and the user's other sessions end, since
    they carry a hash of the old password), with our page, a message and an audit entry."""

    template_name = "events/account/password_change.html"
    success_url = reverse_lazy("overview")

    def form_valid(self, form):
        response = super().form_valid(form)
        audit.record_change(self.request.user, "user.password_changed", self.request.user)
        messages.success(
            self.request, "Your password is changed. Your other sessions, on other browsers, are signed out."
        )
        return response


@login_not_required
def admin_login(request: HttpRequest) -> HttpResponse:
    """Django's admin sends here whoever it refuses. Someone signed in was refused for their role:
    say so, instead of the login page sending them back to the admin, and round again."""
    if request.user.is_authenticated:
        reason = "Django's admin is for admins only. Everything your role includes is in the dashboard."
        return render(request, "403.html", {"reason": reason}, status=403)
    query = request.META.get("QUERY_STRING", "")
    return redirect(f"{reverse('login')}?{query}" if query else reverse("login"))
