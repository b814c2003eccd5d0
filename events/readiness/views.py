"""GET /ready/: 200 when ready, 503 naming what failed (for load balancers and orchestrators)."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from events.readiness.checks import readiness


@login_not_required
@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    result = readiness()
    body = {
        "status": "ready" if result.ready else "not ready",
        "failed": result.failed,
        "checks": result.checks,
    }
    return JsonResponse(body, status=200 if result.ready else 503)
