"""An app's result callback, for admins: set its URL, rotate its signing secret (shown once, on
the answer to the change), switch it off; and the tries of one delivery's callback."""

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from events import audit
from events.callbacks import signing
from events.callbacks.forms import CallbackEndpointForm
from events.callbacks.models import CallbackEndpoint
from events.models import App
from events.views.apps import get_managed_app
from events.views.common import confirmed


def _endpoint(app: App) -> CallbackEndpoint | None:
    return CallbackEndpoint.objects.filter(app=app).first()


def _page(
    request, app: App, form: CallbackEndpointForm | None = None, *, new_secret: str = "", status: int = 200
):
    endpoint = _endpoint(app)
    context = {
        "app": app,
        "endpoint": endpoint,
        "form": form or CallbackEndpointForm(instance=endpoint),
        "new_secret": new_secret,
        "recent": list(endpoint.callbacks.select_related("delivery").order_by("-created_at")[:20])
        if endpoint
        else [],
    }
    return render(request, "events/callbacks/endpoint.html", context, status=status)


@require_GET
def endpoint(request, pk: int):
    return _page(request, get_managed_app(request, pk))


@never_cache  # a new endpoint's answer carries its secret: no browser or proxy may keep it
@require_POST
def endpoint_save(request, pk: int):
    """Set the URL; a first one gets a new secret, shown in full on this answer only."""
    app = get_managed_app(request, pk)
    existing = _endpoint(app)
    form = CallbackEndpointForm(request.POST, instance=existing)
    if not form.is_valid():
        return _page(request, app, form, status=400)
    before = existing.url if existing else ""
    secret = ""
    with transaction.atomic():
        endpoint = form.save(commit=False)
        endpoint.app = app
        endpoint.active = True
        if existing is None:
            secret = endpoint.secret = signing.new_secret()
        endpoint.save()
        changes = {"url": [before, endpoint.url], "active": [existing.active if existing else None, True]}
        if secret:
            changes["secret"] = endpoint.secret_masked
        audit.record_change(
            request.user, "callback.set" if existing else "callback.added", endpoint, changes, app
        )
    if secret:
        return _page(request, app, new_secret=secret)
    messages.success(request, f"Results of {app.name} now go to {endpoint.url}.")
    return redirect("callback_endpoint", app.pk)


@never_cache
@require_POST
def endpoint_rotate(request, pk: int):
    app = get_managed_app(request, pk)
    endpoint = _endpoint(app)
    if endpoint is None or not confirmed(request, "replace the signing secret"):
        return redirect("callback_endpoint", app.pk)
    before = endpoint.secret_masked
    secret = endpoint.secret = signing.new_secret()
    endpoint.save()
    audit.record_change(
        request.user, "callback.secret_rotated", endpoint, {"secret": [before, endpoint.secret_masked]}, app
    )
    return _page(request, app, new_secret=secret)


@require_POST
def endpoint_set_active(request, pk: int, active: bool):
    app = get_managed_app(request, pk)
    endpoint = _endpoint(app)
    if endpoint is None or endpoint.active == active:
        return redirect("callback_endpoint", app.pk)
    if not active and not confirmed(request, "stop the result callbacks"):
        return redirect("callback_endpoint", app.pk)
    endpoint.active = active
    endpoint.save(update_fields=["active", "updated_at"])
    audit.record_change(
        request.user,
        "callback.reactivated" if active else "callback.deactivated",
        endpoint,
        {"active": [not active, active]},
        app,
    )
    messages.success(request, f"Result callbacks of {app.name} are {'on' if active else 'off'}.")
    return redirect("callback_endpoint", app.pk)
