"""A user's own preferences: the time zone every page shows times in."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from events.accounts.models import Preferences
from events.timezones import chosen_zone, zone_names


@require_http_methods(["GET", "POST"])
def time_zone(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        zone = request.POST.get("time_zone", "")
        if zone not in zone_names():
            messages.error(request, "Choose a time zone from the list.")
            return redirect("time_zone")
        Preferences.objects.update_or_create(user=request.user, defaults={"time_zone": zone})
        messages.success(request, f"Times are now shown in {zone}.")
        back = request.POST.get("next", "")
        safe = url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()})
        return redirect(back if back and safe else "overview")
    context = {"zones": zone_names(), "current": chosen_zone(request.user) or "UTC"}
    return render(request, "events/account/time_zone.html", context)
