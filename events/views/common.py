"""Helpers every dashboard view uses: load an object this user may see, or 404."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from events.models import App, Attempt, Delivery, EventToken


def require_perm(request, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def confirmed(request, what: str) -> bool:
    """Whether a change that stops something was confirmed on its page, where the button says what
    will stop (templates/events/partials/confirm_button.html). If not, nothing changes and the
    user is told why."""
    if request.POST.get("confirmed") == "yes":
        return True
    messages.error(request, f"Nothing changed: confirm first that you want to {what}.")
    return False


def get_app_for_user(request, pk: int) -> App:
    require_perm(request, "events.view_app")
    return get_object_or_404(App, pk=pk)


def get_event_token_for_user(request, app: App, pk: int) -> EventToken:
    require_perm(request, "events.view_eventtoken")
    return get_object_or_404(EventToken, pk=pk, app=app)


def get_delivery_for_user(request, pk: int) -> Delivery:
    require_perm(request, "events.view_delivery")
    return get_object_or_404(Delivery.objects.select_related("app", "event_token"), pk=pk)


def get_attempt_for_user(request, pk: int) -> Attempt:
    require_perm(request, "events.view_delivery")
    require_perm(request, "events.view_attempt")
    return get_object_or_404(Attempt.objects.select_related("delivery__app", "delivery__event_token"), pk=pk)
