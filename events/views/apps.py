"""Apps: admins list, create, edit, deactivate and reactivate them; marketers read the list and each
app's page with its event tokens (no key, no security token, no change)."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db.models import Count, Exists, OuterRef, Q
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from events import audit
from events.forms.apps import AppForm
from events.forms.tokens import EventTokenForm
from events.models import App, AuditEntry, Delivery
from events.monitoring import recent_canaries
from events.monitoring.models import Canary
from events.providers import get_provider
from events.views.common import confirmed, get_app_for_user, require_perm

# What the audit trail compares on create and edit; app_key is masked by events.audit.
AUDITED_FIELDS = ("name", "provider", "platform", "bundle_id", "default_environment", "app_key")


def get_managed_app(request, pk: int) -> App:
    """The app, for its management pages: marketers may see apps, but only admins manage them."""
    require_perm(request, "events.change_app")
    return get_app_for_user(request, pk)


@require_GET
@permission_required("events.view_app", raise_exception=True)
def app_list(request):
    # Explicit order: Meta.ordering does not apply to a query with GROUP BY.
    apps = App.objects.annotate(
        event_token_count=Count("event_tokens", filter=Q(event_tokens__archived_at__isnull=True))
    ).order_by("name")
    return render(request, "events/manage/apps.html", {"apps": apps})


@require_http_methods(["GET", "POST"])
@permission_required(["events.add_app", "events.change_app"], raise_exception=True)
def app_create(request):
    form = AppForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        app = form.save()
        audit.record_change(request.user, "app.created", app, audit.snapshot(app, AUDITED_FIELDS))
        messages.success(request, f"Added the app '{app.name}'. Now add its event tokens.")
        _warn(request, form)
        return redirect("app_detail", app.pk)
    return render(request, "events/manage/app_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
def app_edit(request, pk: int):
    app = get_managed_app(request, pk)
    before = audit.snapshot(app, AUDITED_FIELDS) if request.method == "POST" else {}
    form = AppForm(request.POST or None, instance=app)
    if request.method == "POST" and form.is_valid():
        app = form.save()
        changes = audit.diff(before, audit.snapshot(app, AUDITED_FIELDS))
        if changes:
            audit.record_change(request.user, "app.updated", app, changes)
            messages.success(request, f"Saved the app '{app.name}'.")
        else:
            messages.info(request, "Nothing changed.")
        _warn(request, form)
        return redirect("app_detail", app.pk)
    return render(request, "events/manage/app_form.html", {"form": form, "app": app})


def _warn(request, form: AppForm) -> None:
    for warning in form.warnings:
        messages.warning(request, warning)


@require_POST
def app_set_active(request, pk: int, active: bool):
    app = get_managed_app(request, pk)
    if app.active == active:
        messages.info(request, f"'{app.name}' is already {'active' if active else 'inactive'}.")
        return redirect("app_detail", app.pk)
    if not active and not confirmed(request, f"deactivate '{app.name}'"):
        return redirect("app_detail", app.pk)
    app.active = active
    app.save(update_fields=["active", "updated_at"])
    verb = "reactivated" if active else "deactivated"
    audit.record_change(request.user, f"app.{verb}", app, {"active": [not active, active]})
    if active:
        messages.success(request, f"Reactivated '{app.name}': its events can be sent again.")
    else:
        messages.success(
            request, f"Deactivated '{app.name}': nothing is sent for it until it is reactivated."
        )
    return redirect("app_detail", app.pk)


@require_GET
def app_detail(request, pk: int):
    app = get_app_for_user(request, pk)
    return render_app_page(request, app)


def render_app_page(request, app: App, event_token_form: EventTokenForm | None = None):
    """The app's page; a view whose form failed passes the bound form back in."""
    # Whether a token was ever sent decides between archiving and deleting it: say which up front.
    tokens = list(app.event_tokens.annotate(used=Exists(Delivery.objects.filter(event_token=OuterRef("pk")))))
    mmp = get_provider(app)
    context = {
        "app": app,
        "mmp": mmp,
        "event_tokens": [t for t in tokens if not t.archived],
        "archived_tokens": [t for t in tokens if t.archived],
        "event_token_form": event_token_form or EventTokenForm(app=app),
        "show_security": mmp.takes_security_tokens and request.user.has_perm("events.view_securitytoken"),
        "canary": Canary.objects.filter(app=app).select_related("event_token").first(),
        "canary_strip": recent_canaries(app),
        "open_incidents": list(app.incidents.filter(resolved_at=None)),
        "recent_changes": (
            audit.described(AuditEntry.objects.filter(app=app).select_related("app")[:5])
            if request.user.has_perm("events.view_auditentry")
            else None
        ),
    }
    return render(request, "events/manage/app_detail.html", context)
