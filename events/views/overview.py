"""The overview: how sending went in a time range, overall, per MMP and per app, read from the
hourly rollups (events/reporting/); and how the queue is doing."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from events.engine import paused_hosts
from events.forms.overview import OverviewForm
from events.reporting import charts, figures, queue
from events.views.common import require_perm


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    require_perm(request, "events.view_delivery")
    form = OverviewForm(request.GET)
    zone = timezone.get_current_timezone()  # the reader's (events.timezones)
    span = form.time_range(timezone.now(), zone)
    data = form.cleaned_data if form.is_valid() else {}
    # Test traffic is the test form's (source=form); tests=exclude leaves it out of every figure.
    include_tests = data.get("tests") != "exclude"
    report = figures.report(span, include_tests=include_tests, app=data.get("app"), mmp=data.get("mmp", ""))
    hourly = span.bucket.total_seconds() < 24 * 3600
    context = {
        "form": form,
        "report": report,
        "chart": charts.chart(
            report.bars, time_format="%b %-d %H:%M" if hourly or span.off_the_hour else "%b %-d", zone=zone
        ),
        "zone_name": timezone.get_current_timezone_name(),
        "legend": charts.SEGMENTS,
        "bucket_hours": int(span.bucket.total_seconds() // 3600),
        "include_tests": include_tests,
        "queue": queue.queue_health(),
        "oldest": queue.oldest_waiting(),
        "paused_hosts": paused_hosts(),
        "now": timezone.now(),
        "rollup_days": settings.ROLLUP_RETENTION_DAYS,
    }
    return render(request, "events/overview.html", context)
