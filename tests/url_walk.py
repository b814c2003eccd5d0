"""Every URL pattern of the project, filled in with ids of objects that exist: the access matrix,
the secret-leak sweep and the CSRF check walk them all, so a new page is covered (or fails loudly
until it is) without anyone remembering to add it.

A pattern's ids are found by the path segment before them (`apps/<int:pk>` -> an App) or by their
name (`<delivery_id>` -> a Delivery). A segment this table does not know fails with its route, so
the author of a new kind of page adds one line here.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.apps import apps as django_apps
from django.urls import URLPattern, URLResolver, get_resolver

# The segment before an id, or the id's own name, -> the model it names.
ID_OWNERS = {
    "apps": "events.App",
    "template": "events.App",
    "users": "auth.User",
    "bulk": "events.BulkSend",
    "api-keys": "events.ApiKey",
    "deliveries": "events.Delivery",
    "delivery_id": "events.Delivery",
    "attempts": "events.Attempt",
    "event-tokens": "events.EventToken",
    "security-tokens": "events.SecurityToken",
    # The emulated AppsFlyer's app id in its path: any value does for a walk (an app's pk here).
    "inappevent": "events.App",
    "views": "events.SavedView",
    "incidents": "events.Incident",
    "channels": "events.AlertChannel",
    "resends": "events.BulkResend",
}
# Django's admin and django-rq's pages: walked through ADMIN_PAGES below, not pattern by pattern.
SKIPPED_PREFIXES = ("admin/",)
ADMIN_PAGES = (
    "/admin/",
    "/admin/events/app/",
    "/admin/events/app/add/",
    "/admin/events/app/{events.App}/change/",
    "/admin/events/securitytoken/",
    "/admin/events/delivery/",
    "/admin/events/delivery/{events.Delivery}/change/",
    "/admin/events/attempt/",
    "/admin/events/attempt/{events.Attempt}/change/",
    "/admin/auth/user/",
    "/admin/django_rq/dashboard/",
    # Not the emulator's admin pages: they are the emulated MMP's side, which holds the tokens it
    # checks against, like the MMP's own dashboard (and test_secret_leaks leaves its tables out).
)
_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


class UnknownId(LookupError):
    pass


@dataclass(frozen=True)
class Route:
    route: str  # "manage/apps/<int:pk>/"
    name: str  # "app_detail", "api-v1:get_delivery"

    def url(self, ids: dict[str, list[int]]) -> str | None:
        """The route with each id filled in from `ids` (model label -> pks); None if one is missing."""
        path = self.route
        for match in _PARAM.finditer(self.route):
            label = owner(self.route, match)
            if not ids.get(label):
                return None
            path = path.replace(match.group(0), str(ids[label][0]), 1)
        return "/" + path


def owner(route: str, match: re.Match) -> str:
    name = match.group("name")
    before = route[: match.start()].rstrip("/").rsplit("/", 1)[-1]
    for key in (name, before):
        if key in ID_OWNERS:
            return ID_OWNERS[key]
    raise UnknownId(
        f"{route}: which object does <{name}> name? Add its segment to ID_OWNERS in tests/url_walk.py."
    )


def routes() -> list[Route]:
    found = [Route(route, name) for route, name in _walk(get_resolver().url_patterns)]
    return [r for r in found if not r.route.startswith(SKIPPED_PREFIXES)]


def _walk(patterns, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(part for part in (namespace, pattern.namespace or "") if part)
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            yield (
                route.lstrip("^").rstrip("$").replace("\\Z", ""),
                ":".join(p for p in (namespace, pattern.name or "") if p),
            )


def existing_ids() -> dict[str, list[int]]:
    labels = {*ID_OWNERS.values(), "events.Attempt", "events.Delivery"}
    ids = {}
    for label in labels:
        try:
            model = django_apps.get_model(label)
        except LookupError:
            continue
        ids[label] = list(model.objects.order_by("pk").values_list("pk", flat=True)[:1])
    return ids


def admin_urls(ids: dict[str, list[int]]) -> list[str]:
    urls = []
    for page in ADMIN_PAGES:
        label = re.search(r"\{(.+?)\}", page)
        if label and not ids.get(label.group(1)):
            continue
        urls.append(page.replace(label.group(0), str(ids[label.group(1)][0])) if label else page)
    return urls
