"""Each user's time zone: every time on every page is shown in it (events.templatetags.clock), and
times typed into forms are read in it. Until a user chooses, UTC, and the page offers the browser's
zone once (static/js/timezone.js)."""

import zoneinfo
from functools import cache

from django.utils import timezone

from events.accounts.models import Preferences


@cache
def zone_names() -> list[str]:
    return sorted(zoneinfo.available_timezones() - {"localtime", "Factory"})


def chosen_zone(user) -> str | None:
    """The user's zone, or None when they have not chosen one yet."""
    if not user.is_authenticated:
        return None
    preferences = Preferences.objects.filter(user=user).first()
    return preferences.time_zone if preferences else None


class UserTimeZoneMiddleware:
    """Activates the signed-in user's zone for the request (after AuthenticationMiddleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = chosen_zone(request.user)
        request.time_zone_chosen = zone is not None
        try:
            timezone.activate(zoneinfo.ZoneInfo(zone or "UTC"))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.activate(zoneinfo.ZoneInfo("UTC"))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
