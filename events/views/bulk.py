"""Bulk sends, for marketers and admins: upload a CSV for one app, read the check's report, send
the valid rows, follow the progress live (or cancel), download the results."""

import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST

from events.bulk import MAX_PROBLEMS, PLAIN_FIELDS, provider_fields, result_lines, template_csv
from events.bulk import jobs as bulk_jobs
from events.bulk.models import BulkSend
from events.forms.bulk import BulkUploadForm
from events.models import App
from events.providers import get_provider
from events.views.common import confirmed, get_app_for_user, require_perm

PERM = "events.send_event"
State = BulkSend.State
# The results are worth downloading once rows have started to go out.
RESULT_STATES = (State.QUEUEING, State.QUEUED, State.CANCELLED)


def get_bulk_for_user(request, pk: int) -> BulkSend:
    """Any bulk send (one tenant); acting on bulk sends takes the permission to send events."""
    require_perm(request, PERM)
    return get_object_or_404(BulkSend.objects.select_related("app", "created_by"), pk=pk)


@require_GET
def bulk_list(request):
    require_perm(request, PERM)
    return _render_list(request, BulkUploadForm())


@require_POST
def bulk_upload(request):
    require_perm(request, PERM)
    form = BulkUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_list(request, form)
    upload = form.cleaned_data["file"]
    filename = upload.name[:255]
    upload.name = f"{uuid.uuid4().hex}.csv"  # stored under a name of ours, shown under the user's
    bulk = BulkSend.objects.create(
        app=form.cleaned_data["app"], created_by=request.user, file=upload, filename=filename
    )
    bulk_jobs.enqueue_check(bulk)
    messages.success(request, f"Uploaded {filename}. Every row is being checked; nothing is sent yet.")
    return redirect("bulk_detail", pk=bulk.pk)


def _render_list(request, form: BulkUploadForm):
    bulks = BulkSend.objects.select_related("app", "created_by")
    page = Paginator(bulks, 25).get_page(request.GET.get("page"))
    apps = list(App.objects.filter(active=True))
    for app in apps:
        app.device_id_columns = get_provider(app).device_id_types(app)
        app.field_columns = provider_fields(app)
    context = {"form": form, "page": page, "apps": apps, "plain_fields": PLAIN_FIELDS}
    return render(request, "events/bulk/list.html", context)


@require_GET
def bulk_detail(request, pk: int):
    bulk = get_bulk_for_user(request, pk)
    context = {
        **_live_context(bulk),
        "duplicates": bulk.total_rows - bulk.valid_rows - bulk.invalid_rows - bulk.guarded_rows,
        "more_problems": bulk.invalid_rows + bulk.guarded_rows > len(bulk.problems),
        "max_problems": MAX_PROBLEMS,
        "mmp_label": get_provider(bulk.app).label,
        "sandbox_rows": bulk.valid_rows - bulk.production_rows,
        "send_label": f"Send the {bulk.valid_rows:,} valid row{'s' if bulk.valid_rows != 1 else ''}",
        "production_consequence": (
            f"{bulk.valid_rows:,} events go to {get_provider(bulk.app).label} for {bulk.app.name}, "
            f"{bulk.production_rows:,} of them to production: they count in its reports and may reach "
            "ad networks."
        ),
    }
    return render(request, "events/bulk/detail.html", context)


@require_GET
def bulk_progress(request, pk: int):
    """The live part of the bulk's page, as a fragment for bulk.js to swap in."""
    bulk = get_bulk_for_user(request, pk)
    return render(request, "events/bulk/_progress.html", _live_context(bulk))


def _live_context(bulk: BulkSend) -> dict:
    progress = bulk_jobs.progress(bulk) if bulk.started_at else None
    return {
        "bulk": bulk,
        "progress": progress,
        # Still changing by itself: the page follows it (bulk.js, or a refresh without JS).
        "live": bulk.state == State.CHECKING or (progress is not None and not progress.done),
        "results_ready": _results_ready(bulk),
    }


def _results_ready(bulk: BulkSend) -> bool:
    # Also after an error once sending had started: some rows went out.
    return bulk.state in RESULT_STATES or (bulk.state == State.ERROR and bulk.started_at is not None)


@require_POST
def bulk_start(request, pk: int):
    bulk = get_bulk_for_user(request, pk)
    # Production rows are real data, like a production resend: the same confirmation first.
    if bulk.production_rows:
        if not confirmed(request, f"send {bulk.production_rows:,} rows to production"):
            return redirect("bulk_detail", pk=bulk.pk)
        if not request.POST.get("confirm_production"):
            messages.error(request, "Not sent: production rows count as real data; tick the box to confirm.")
            return redirect("bulk_detail", pk=bulk.pk)
    if bulk_jobs.start(bulk):
        messages.success(request, f"Sending the {bulk.valid_rows:,} valid rows.")
    else:
        messages.error(
            request, "This bulk send cannot start: it is not checked, has no valid rows, or started already."
        )
    return redirect("bulk_detail", pk=bulk.pk)


@require_POST
def bulk_cancel(request, pk: int):
    bulk = get_bulk_for_user(request, pk)
    # Once sending started, cancelling stops sends: confirmed on the page first. Before, it only
    # drops a check or a report.
    if bulk.started_at and not confirmed(
        request, "cancel this bulk send (rows not sent yet will not be sent)"
    ):
        return redirect("bulk_detail", pk=bulk.pk)
    if bulk_jobs.cancel(bulk):
        messages.success(
            request, "Cancelled. Rows not sent yet will not be sent; those already going out finish."
        )
    else:
        messages.error(request, f"Nothing to cancel: this bulk send is {bulk.get_state_display().lower()}.")
    return redirect("bulk_detail", pk=bulk.pk)


@require_GET
def bulk_results(request, pk: int):
    bulk = get_bulk_for_user(request, pk)
    if not _results_ready(bulk):
        raise Http404("No results before sending starts.")
    response = StreamingHttpResponse(result_lines(bulk), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="bulk-{bulk.pk}-results.csv"'
    return response


@require_GET
def bulk_template(request, pk: int):
    require_perm(request, PERM)
    app = get_app_for_user(request, pk)
    response = HttpResponse(template_csv(app), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slugify(app.name) or "app"}-template.csv"'
    return response
