"""Send a test event: pick an app, fill in the fields its MMP takes, preview the exact request, send.

Sending takes the same path as every other source (create_delivery), marked source=form.
"""

import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from events.curl import curl_for_request
from events.engine import create_delivery
from events.forms.send import SendForm, send_form
from events.models import App, Source
from events.pretty import decode_body, header
from events.providers import EventInvalid, get_provider
from events.secrets import Masker
from events.views.common import get_app_for_user, require_perm

SEND_PERM = "events.send_event"


@require_http_methods(["GET", "POST"])
def send(request: HttpRequest) -> HttpResponse:
    require_perm(request, SEND_PERM)
    if request.method == "GET":
        app = _app(request, request.GET.get("app")) if request.GET.get("app") else None
        form = send_form(app) if app else None
        return render_console(request, app, form)

    app = _app(request, request.POST.get("app"))
    form = send_form(app, data=request.POST)
    if request.POST.get("action") == "preview":
        return render_console(request, app, form, preview=build_preview(form))
    if not form.is_valid():
        return render_console(request, app, form)
    confirmed = form.confirmed()
    event_token = form.cleaned_data["event_token"]
    fields = form.to_fields()
    try:
        # create_delivery validates again; asked here for every error at once, and the warnings.
        warnings = get_provider(app).validate(app, event_token, fields).warnings
        if form.block_errors or not confirmed:
            return render_console(request, app, form)
        delivery, created = create_delivery(
            app,
            event_token,
            fields,
            source=Source.FORM,
            user=request.user,
            idempotency_key=form.cleaned_data["idempotency_key"] or None,
        )
    except EventInvalid as exc:
        form.apply_errors(exc.errors)
        return render_console(request, app, form)
    if created:
        messages.success(request, f"Queued delivery {delivery.pk}.")
    else:
        messages.info(
            request, f"This form was already sent as delivery {delivery.pk}; nothing new was queued."
        )
    for warning in warnings:
        messages.warning(request, warning)
    return redirect("delivery", pk=delivery.pk)


@require_POST
def preview(request: HttpRequest) -> HttpResponse:
    """The preview alone, for the few lines of JS that refresh it as the form changes."""
    require_perm(request, SEND_PERM)
    app = _app(request, request.POST.get("app"))
    form = send_form(app, data=request.POST)
    return render(request, "events/console/_preview.html", {"preview": build_preview(form), "form": form})


def render_console(
    request: HttpRequest,
    app: App | None,
    form: SendForm | None,
    *,
    preview: dict[str, Any] | None = None,
    cloned_from=None,
    original_time: str = "",
) -> HttpResponse:
    context = {
        "apps": App.objects.filter(active=True).order_by("name"),
        "app": app,
        "form": form,
        "preview": preview,
        "cloned_from": cloned_from,
        "original_time": original_time,
        "provider": get_provider(app) if app else None,
    }
    if form is not None and not form.is_bound:
        form.initial.setdefault("idempotency_key", uuid.uuid4().hex)
    return render(request, "events/console/send.html", context)


def build_preview(form: SendForm) -> dict[str, Any]:
    """The exact request the form would send, secrets masked; or why it cannot be built yet."""
    if not form.is_valid():
        return {"problems": _form_problems(form)}
    app, event_token = form.app, form.cleaned_data["event_token"]
    provider = get_provider(app)
    try:
        valid = provider.validate(app, event_token, form.to_fields())
    except EventInvalid as exc:
        form.apply_errors(exc.errors)
        return {"problems": _form_problems(form)}
    if form.block_errors:
        return {"problems": _form_problems(form)}
    outbound = provider.build(app, event_token, valid.params)
    masker = Masker(outbound.secrets)
    headers = masker.headers(outbound.headers)
    return {
        "method": outbound.method,
        "url": masker.text(outbound.url),
        "headers": headers,
        "body": decode_body(masker.text(outbound.body.decode()), header(headers, "Content-Type")),
        "curl": curl_for_request(app, outbound),
        "warnings": valid.warnings,
        "pinned_time": "created_at_unix" in valid.params and not form.cleaned_data.get("created_at"),
    }


def _app(request: HttpRequest, value: str | None) -> App:
    try:
        pk = int(value or "")
    except ValueError:
        raise Http404("No such app.") from None
    return get_app_for_user(request, pk)


def _form_problems(form: SendForm) -> list[str]:
    problems = [" ".join(errors) for errors in form.block_errors.values()]
    for name, errors in form.errors.items():
        problems.append(
            f"{_label(form, name)}: {' '.join(errors)}" if name != "__all__" else " ".join(errors)
        )
    return problems


def _label(form: SendForm, name: str) -> str:
    field = form.fields.get(name)
    return str(field.label) if field is not None and field.label else name.replace("_", " ")
