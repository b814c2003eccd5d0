"""Bulk resends, for those who may resend (the single resend's permission): from the request log's
ticked rows or all its filter matches, a preview of what would happen to each, a confirmation
(production needs the same tick as a single resend), then the progress while a job resends."""

from urllib.parse import urlencode

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from events import audit
from events.forms.log import LogFilterForm
from events.resend import jobs, preview, report
from events.resend.models import BulkResend
from events.resend.plan import max_deliveries
from events.views.common import confirmed, require_perm
from events.views.console import SEND_PERM

State = BulkResend.State


def get_resend_for_user(request: HttpRequest, pk: int) -> BulkResend:
    """Any bulk resend (one tenant); seeing one takes the permission to resend."""
    require_perm(request, "events.view_delivery")
    require_perm(request, SEND_PERM)
    return get_object_or_404(BulkResend.objects.select_related("created_by"), pk=pk)


@require_POST
def resend_preview(request: HttpRequest) -> HttpResponse:
    """The ticked deliveries, or all the filters match: the plan, saved to be confirmed."""
    require_perm(request, "events.view_delivery")
    require_perm(request, SEND_PERM)
    form = LogFilterForm(request.POST)
    filters = urlencode({k: v for k, v in request.POST.items() if k in form.fields and v})
    back = reverse("log") + (f"?{filters}" if filters else "")
    if not form.is_valid():
        messages.error(request, "Nothing to resend: fix the filters first.")
        return redirect(back)
    try:
        if request.POST.get("scope") == "all":
            ids = preview.matching(form.filters())
        else:
            ids, filters = _ticked(request), ""
        if ids is None:
            messages.error(request, "Nothing to resend: a ticked value is not a delivery id.")
            return redirect(back)
        if not ids:
            messages.error(
                request, "Nothing to resend: tick the deliveries first, or choose all matching the filters."
            )
            return redirect(back)
        bulk = preview.preview(request.user, ids, filters=filters)
    except preview.TooMany as exc:
        messages.error(request, str(exc))
        return redirect(back)
    return redirect("bulk_resend", pk=bulk.pk)


def _ticked(request: HttpRequest) -> list[int] | None:
    """The ticked delivery ids; None when one is not an id at all (a forged or broken form)."""
    values = request.POST.getlist("ids")
    if not all(value.isascii() and value.isdigit() and len(value) <= 18 for value in values):
        return None
    return [int(value) for value in values]


@require_GET
def bulk_resend(request: HttpRequest, pk: int) -> HttpResponse:
    bulk = get_resend_for_user(request, pk)
    summary = report.summary(bulk)
    to_do = summary.to_resend + summary.to_retry
    context = {
        **_live_context(bulk),
        "summary": summary,
        "start_label": f"Resend {to_do} deliver{'y' if to_do == 1 else 'ies'}",
        "max_deliveries": max_deliveries(),
        "log_url": reverse("log") + (f"?{bulk.filters}" if bulk.filters else ""),
    }
    return render(request, "events/resends/detail.html", context)


@require_GET
def bulk_resend_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The live part of the page, as a fragment for bulk.js to swap in."""
    bulk = get_resend_for_user(request, pk)
    return render(request, "events/resends/_progress.html", _live_context(bulk))


def _live_context(bulk: BulkResend) -> dict:
    progress = report.progress(bulk) if bulk.started_at else None
    return {
        "bulk": bulk,
        "progress": progress,
        "live": progress is not None and not progress.done,
    }


@require_POST
def bulk_resend_start(request: HttpRequest, pk: int) -> HttpResponse:
    bulk = get_resend_for_user(request, pk)
    if not confirmed(request, f"resend these {bulk.total} deliveries"):
        return redirect("bulk_resend", pk=bulk.pk)
    if bulk.production and not request.POST.get("confirm_production"):
        messages.error(request, "Not resent: production resends count as real data; tick the box to confirm.")
        return redirect("bulk_resend", pk=bulk.pk)
    summary = report.summary(bulk)
    with transaction.atomic():
        started = jobs.start(bulk)
        if started:
            audit.record_change(
                request.user,
                "bulk_resend.started",
                bulk,
                {
                    "deliveries": bulk.total,
                    "resend": summary.to_resend,
                    "production": summary.production,
                    "retry_now": summary.to_retry,
                    "skipped": summary.skipped_count,
                    "refused": summary.refused_count,
                    "filters": bulk.filters or "(ticked in the log)",
                },
            )
    if started:
        messages.success(request, f"Resending: {bulk.total} deliveries are being handled in the background.")
    else:
        messages.error(request, f"This bulk resend cannot start: it is {bulk.get_state_display().lower()}.")
    return redirect("bulk_resend", pk=bulk.pk)
