"""The overview: how sending went in the last 24 hours and 7 days, and how the queue is doing."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from events import stats
from events.engine import paused_hosts
from events.views.common import require_perm


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    require_perm(request, "events.view_delivery")
    # Test traffic is the test form's (source=form); ?tests=exclude leaves it out of every figure.
    include_tests = request.GET.get("tests") != "exclude"
    now = timezone.now()
    windows = []
    for window in stats.WINDOWS:
        qs = stats.deliveries_in(window, now, include_tests=include_tests)
        overall, by_app = stats.window_figures(qs)
        buckets = stats.sends_over_time(qs, window, now)
        windows.append(
            {"window": window, "overall": overall, "by_app": by_app, "chart": stats.chart(buckets)}
        )
    context = {
        "windows": windows,
        "include_tests": include_tests,
        "queue": stats.queue_health(),
        "oldest": stats.oldest_waiting(),
        "paused_hosts": paused_hosts(),
        "now": now,
    }
    return render(request, "events/overview.html", context)
