"""Adjust S2S security tokens: add, rotate, activate, deactivate. The value is typed once and
shown only masked afterwards; one token at most is active, the one Adjust requests carry."""

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from events import audit
from events.forms.tokens import SecurityTokenForm
from events.models import App, SecurityToken
from events.providers import get_provider
from events.views.apps import get_managed_app
from events.views.common import confirmed, require_perm


def _adjust_app(request, pk: int, *perms: str) -> App:
    app = get_managed_app(request, pk)
    for perm in perms:
        require_perm(request, perm)
    mmp = get_provider(app)
    if not mmp.takes_security_tokens:
        raise Http404(f"{mmp.label} apps have no S2S security tokens.")
    return app


def _token(request, pk: int, token_pk: int) -> SecurityToken:
    app = _adjust_app(request, pk, "events.change_securitytoken")
    return get_object_or_404(SecurityToken.objects.select_related("app"), pk=token_pk, app=app)


def _page(request, app: App, form: SecurityTokenForm | None = None):
    context = {"app": app, "tokens": app.security_tokens.all(), "form": form or SecurityTokenForm(app=app)}
    return render(request, "events/manage/security_tokens.html", context)


@require_GET
def security_tokens(request, pk: int):
    return _page(request, _adjust_app(request, pk, "events.view_securitytoken"))


@require_POST
def security_token_add(request, pk: int):
    """A new token; it becomes active only if none is, so one can be staged before Adjust uses it."""
    app = _adjust_app(request, pk, "events.view_securitytoken", "events.add_securitytoken")
    form = SecurityTokenForm(request.POST, app=app)
    if not form.is_valid():
        return _page(request, app, form)
    form.instance.active = not app.security_tokens.filter(active=True).exists()
    token = form.save()
    audit.record_change(
        request.user,
        "security_token.added",
        token,
        {"label": token.label, "value": token.value, "active": token.active},
        app,
    )
    if token.active:
        messages.success(request, f"Added {token}; it is active: Adjust requests for this app now carry it.")
    else:
        messages.success(
            request, f"Added {token}, inactive: another token is active. Activate it when Adjust expects it."
        )
    return redirect("security_tokens", app.pk)


@require_POST
def security_token_rotate(request, pk: int):
    """The new token becomes the active one; the previous stays, inactive, for rollback."""
    app = _adjust_app(
        request, pk, "events.view_securitytoken", "events.add_securitytoken", "events.change_securitytoken"
    )
    form = SecurityTokenForm(request.POST, app=app)
    if not form.is_valid():
        return _page(request, app, form)
    with transaction.atomic():
        previous = list(app.security_tokens.select_for_update().filter(active=True))
        app.security_tokens.filter(active=True).update(active=False)
        form.instance.active = True
        token = form.save()
        before = previous[0] if previous else None
        audit.record_change(
            request.user,
            "security_token.rotated",
            token,
            {
                "label": [before.label if before else None, token.label],
                "value": [before.value if before else None, token.value],
            },
            app,
        )
    rollback = f" {before} stays, inactive, for rollback." if before else ""
    messages.success(request, f"Rotated: {token} is now the active token.{rollback}")
    return redirect("security_tokens", app.pk)


@require_POST
def security_token_activate(request, pk: int, token_pk: int):
    token = _token(request, pk, token_pk)
    replacing = token.app.security_tokens.filter(active=True).exclude(pk=token.pk).exists()
    if replacing and not confirmed(request, f"make {token} the active token in place of the current one"):
        return redirect("security_tokens", token.app.pk)
    with transaction.atomic():
        others = list(token.app.security_tokens.select_for_update().filter(active=True).exclude(pk=token.pk))
        token.app.security_tokens.filter(pk__in=[t.pk for t in others]).update(active=False)
        if not token.active:
            token.active = True
            token.save(update_fields=["active"])
            audit.record_change(
                request.user, "security_token.activated", token, {"active": [False, True]}, token.app
            )
        for other in others:
            audit.record_change(
                request.user, "security_token.deactivated", other, {"active": [True, False]}, token.app
            )
    replaced = f"; {', '.join(str(t) for t in others)} deactivated" if others else ""
    messages.success(request, f"{token} is the active token{replaced}.")
    return redirect("security_tokens", token.app.pk)


@require_POST
def security_token_deactivate(request, pk: int, token_pk: int):
    token = _token(request, pk, token_pk)
    if not token.active:
        messages.info(request, f"{token} is already inactive.")
        return redirect("security_tokens", token.app.pk)
    if not confirmed(request, f"deactivate {token}"):
        return redirect("security_tokens", token.app.pk)
    token.active = False
    token.save(update_fields=["active"])
    audit.record_change(
        request.user, "security_token.deactivated", token, {"active": [True, False]}, token.app
    )
    messages.success(
        request,
        f"Deactivated {token}. Adjust requests for this app now go without a security token, "
        "which Adjust refuses if the app requires one.",
    )
    return redirect("security_tokens", token.app.pk)
