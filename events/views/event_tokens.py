"""Event tokens, edited on their app's page: add, rename, archive or delete, restore, and CSV
import (check, then confirm) and export."""

from django.contrib import messages
from django.core import signing
from django.db import IntegrityError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from events import audit, token_csv
from events.forms.tokens import EventTokenForm, EventTokenRenameForm
from events.models import App, EventToken
from events.providers import get_provider
from events.views.apps import get_managed_app, render_app_page
from events.views.common import confirmed, get_event_token_for_user, require_perm


def _app_for(request, pk: int, perm: str) -> App:
    app = get_managed_app(request, pk)
    require_perm(request, perm)
    return app


def _token_for(request, pk: int, token_pk: int, perm: str) -> EventToken:
    return get_event_token_for_user(request, _app_for(request, pk, perm), token_pk)


def _back(app: App):
    return redirect(reverse("app_detail", args=[app.pk]) + "#event-tokens")


@require_POST
def event_token_add(request, pk: int):
    app = _app_for(request, pk, "events.add_eventtoken")
    form = EventTokenForm(request.POST, app=app)
    if not form.is_valid():
        return render_app_page(request, app, event_token_form=form)
    token = form.save()
    audit.record_change(
        request.user, "event_token.created", token, audit.snapshot(token, ("name", "token", "kind")), app
    )
    messages.success(request, f"Added the event '{token.name}' ({token.token}).")
    return _back(app)


@require_http_methods(["GET", "POST"])
def event_token_rename(request, pk: int, token_pk: int):
    token = _token_for(request, pk, token_pk, "events.change_eventtoken")
    before = token.name
    form = EventTokenRenameForm(request.POST or None, instance=token)
    if request.method == "POST" and form.is_valid():
        token = form.save()
        if token.name != before:
            audit.record_change(
                request.user, "event_token.renamed", token, {"name": [before, token.name]}, token.app
            )
            messages.success(request, f"Renamed '{before}' to '{token.name}'.")
        return _back(token.app)
    return render(
        request, "events/manage/event_token_rename.html", {"form": form, "token": token, "app": token.app}
    )


@require_POST
def event_token_remove(request, pk: int, token_pk: int):
    token = _token_for(request, pk, token_pk, "events.delete_eventtoken")
    app, token_id, label = token.app, token.pk, str(token)
    if not confirmed(request, f"remove {label}"):
        return _back(app)
    outcome = token.delete_or_archive()
    audit.record_change(
        request.user, f"event_token.{outcome}", token, {"token": token.token}, app, object_id=token_id
    )
    if outcome == "archived":
        messages.success(
            request,
            f"Archived {label}: it has been sent before, so it stays for the request log, "
            "but it can no longer be sent. Restore it to send it again.",
        )
    else:
        messages.success(request, f"Deleted {label}: it had never been sent.")
    return _back(app)


@require_POST
def event_token_restore(request, pk: int, token_pk: int):
    token = _token_for(request, pk, token_pk, "events.change_eventtoken")
    if token.archived:
        token.archived_at = None
        token.save(update_fields=["archived_at"])
        audit.record_change(
            request.user, "event_token.restored", token, {"archived": [True, False]}, token.app
        )
        messages.success(request, f"Restored {token}: it can be sent again.")
    return _back(token.app)


@require_GET
def event_token_export(request, pk: int):
    app = _app_for(request, pk, "events.view_eventtoken")
    response = HttpResponse(token_csv.export(app), content_type="text/csv; charset=utf-8")
    filename = f"{slugify(app.name) or 'app'}-event-tokens.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_http_methods(["GET", "POST"])
def event_token_import(request, pk: int):
    """Step 1: upload, and see every bad row before anything is saved."""
    app = _app_for(request, pk, "events.add_eventtoken")
    context: dict = {"app": app, "mmp": get_provider(app)}
    upload = request.FILES.get("file")
    if request.method == "POST" and upload is None:
        context["error"] = "Choose a CSV file to upload."
    elif request.method == "POST":
        try:
            # One byte over the limit is enough to tell the file is too large.
            report = token_csv.parse(upload.read(token_csv.MAX_BYTES + 1), app)
        except token_csv.CsvUnusable as exc:
            context["error"] = str(exc)
        else:
            context.update(report=report, signed=token_csv.sign_rows(app, report.good) if report.good else "")
    return render(request, "events/manage/event_token_import.html", context)


@require_POST
def event_token_import_confirm(request, pk: int):
    """Step 2: save the rows that were checked and shown, all or none."""
    app = _app_for(request, pk, "events.add_eventtoken")
    try:
        rows = token_csv.unsign_rows(app, request.POST.get("rows", ""))
    except signing.SignatureExpired:
        messages.error(
            request, "The check is more than an hour old; upload the file again. Nothing was imported."
        )
        return redirect("event_token_import", app.pk)
    except signing.BadSignature:
        messages.error(
            request, "The checked rows were changed on the way; upload the file again. Nothing was imported."
        )
        return redirect("event_token_import", app.pk)
    try:
        created = token_csv.save_rows(app, rows, request.user)
    except token_csv.ImportConflict as exc:
        messages.error(request, str(exc))
        return redirect("event_token_import", app.pk)
    except IntegrityError:
        messages.error(
            request,
            "Someone added some of these tokens at the same moment; nothing was imported. Upload the file again.",
        )
        return redirect("event_token_import", app.pk)
    messages.success(request, f"Imported {len(created)} event token{'s' if len(created) != 1 else ''}.")
    return _back(app)
