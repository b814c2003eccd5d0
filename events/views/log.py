"""The request log: every delivery, newest first, filtered from the URL; and its CSV export."""

import csv
from collections.abc import Iterator
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from events.csv_cells import safe_cell
from events.forms.log import LogFilterForm
from events.log import export as log_export
from events.log import query as log_query
from events.models import Delivery
from events.resend.plan import max_deliveries
from events.views.common import require_perm
from events.views.console import SEND_PERM
from events.views.log_rows import log_rows

CSV_COLUMNS = (
    *("delivery_id", "created_at", "app", "event", "event_token", "source", "test", "environment"),
    *("status", "http_status", "attempts", "latency_ms", "device_id_type", "device_id", "ambiguous"),
    "mmp_message",
)
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).


@require_GET
def log(request: HttpRequest) -> HttpResponse:
    require_perm(request, "events.view_delivery")
    form = LogFilterForm(request.GET)
    if form.is_valid():
        before = log_query.Cursor.parse(request.GET.get("before"))
        after = log_query.Cursor.parse(request.GET.get("after"))
        page = log_query.page(form.filters(), before=before, after=after)
    else:  # say what is wrong rather than show rows the filters did not ask for
        page = log_query.Page([], None, None)
    filters = {k: v for k, v in request.GET.items() if k in form.fields and v}
    context = {
        "form": form,
        "page": page,
        "rows": log_rows(page.rows),
        "filters": urlencode(filters),
        "first_page": not (request.GET.get("before") or request.GET.get("after")),
        "filter_items": sorted(filters.items()),
        "saved_views": request.user.saved_views.all(),
        # Bulk resends take the single resend's permission.
        "can_resend": request.user.has_perm(SEND_PERM),
        "resend_max": max_deliveries(),
    }
    # The auto-refresh swaps in only the results, so a half-typed search is not lost.
    template = (
        "events/log/_results.html" if request.GET.get("fragment") == "results" else "events/log/log.html"
    )
    return render(request, template, context)


@require_GET
def export(request: HttpRequest) -> HttpResponse:
    """The filtered rows as CSV, streamed from a server-side cursor: no page limit, the first row
    leaves at once and memory stays flat (log_export.export_rows)."""
    require_perm(request, "events.view_delivery")
    form = LogFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponse(
            "Invalid filters: " + "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    response = StreamingHttpResponse(
        _csv_lines(log_export.export_rows(form.filters())), content_type="text/csv"
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="s2sadmin-deliveries-{stamp}.csv"'
    return response


class _Echo:
    """csv.writer writes into this and gets the line back, so each row can be yielded."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(rows: Iterator[Delivery]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for d in rows:
        yield writer.writerow(
            [
                d.pk,
                d.created_at.isoformat(),
                safe_cell(d.app.name),
                safe_cell(d.event_token.name),
                safe_cell(d.event_token.token),
                d.source,
                "yes" if d.is_test else "no",
                d.environment,
                d.status,
                d.last_http_status if d.last_http_status is not None else "",
                d.attempt_count,
                f"{d.last_duration_ms:.1f}" if d.last_duration_ms is not None else "",
                safe_cell(d.device_id_type),
                safe_cell(d.device_id),
                "yes" if d.ambiguous else "no",
                safe_cell(d.last_message),
            ]
        )
