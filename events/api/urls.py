"""The API's URL patterns, read once every operation is registered on the API."""

from django.contrib.auth.decorators import login_not_required

from events.api.endpoints import api  # the API of site.py, with endpoints.py's operations on it


def urls() -> tuple[list, str | None, str]:
    """The API's URL patterns, public as far as the login middleware goes: keys authenticate."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        pattern.callback = login_not_required(pattern.callback)
    return patterns, app_name, namespace
