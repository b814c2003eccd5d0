"""API keys for backends, for admins: list, create (the key is shown once, on the answer to the
form, and never again), revoke."""

import json

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from events import audit
from events.api import keys as apikeys
from events.forms.api_keys import ApiKeyForm
from events.models import ApiKey, App
from events.providers import get_provider
from events.views.common import confirmed, require_perm

PERM = "events.change_app"


def get_api_key_for_user(request, pk: int) -> ApiKey:
    require_perm(request, PERM)
    return get_object_or_404(ApiKey, pk=pk)


@require_GET
def api_key_list(request):
    require_perm(request, PERM)
    keys = ApiKey.objects.select_related("created_by").prefetch_related("apps")
    return render(request, "events/api_keys/list.html", {"keys": keys})


@never_cache  # the answer carries the raw key: no browser or proxy may keep it
@require_http_methods(["GET", "POST"])
def api_key_create(request):
    require_perm(request, PERM)
    form = ApiKeyForm(request.POST or None)
    if request.method != "POST" or not form.is_valid():
        return render(request, "events/api_keys/form.html", {"form": form})
    apps = list(form.cleaned_data["apps"])
    key, raw = apikeys.create_api_key(
        form.cleaned_data["name"],
        apps,
        user=request.user,
        rate_limit_per_minute=form.cleaned_data["rate_limit_per_minute"],
    )
    audit.record_change(
        request.user,
        "api_key.created",
        key,
        {
            "name": key.name,
            "prefix": key.prefix,
            "apps": ", ".join(app.name for app in apps),
            "rate_limit_per_minute": key.rate_limit_per_minute,
        },
    )
    # Rendered, not redirected: the raw key lives only in this one response.
    context = {"key": key, "raw_key": raw, "curl": _curl_example(request, apps[0])}
    return render(request, "events/api_keys/created.html", context)


@require_POST
def api_key_revoke(request, pk: int):
    key = get_api_key_for_user(request, pk)
    if not key.active:
        messages.info(request, f"{key} was already revoked.")
        return redirect("api_keys")
    if not confirmed(request, f"revoke {key}"):
        return redirect("api_keys")
    apikeys.revoke(key)
    audit.record_change(request.user, "api_key.revoked", key, {"active": [True, False]})
    messages.success(request, f"Revoked {key}: requests with it now get 401.")
    return redirect("api_keys")


def _curl_example(request, app: App) -> str:
    """A request for one event of one of the key's apps; the key comes from an environment variable."""
    token = app.event_tokens.filter(archived_at=None).first()
    id_type = get_provider(app).device_id_types(app)[0]
    body = {
        "id": "order-1234",
        "app": app.name,
        "event": token.token if token else "your-event-token",
        "device_ids": {id_type: "..."},
    }
    url = request.build_absolute_uri(reverse("api-v1:post_events"))
    return (
        f"curl -X POST '{url}' \\\n"
        '  -H "Authorization: Bearer $S2S_API_KEY" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        '  -H "Idempotency-Key: $(uuidgen)" \\\n'
        f"  -d '{_shell_quoted(json.dumps(body))}'"
    )


def _shell_quoted(text: str) -> str:
    # Inside single quotes only a single quote needs care (an app named "Joe's app").
    return text.replace("'", "'\\''")
