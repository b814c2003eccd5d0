"""Dashboard views, one module per concept (apps.py, console.py, log.py, ...); shared helpers in
common.py. Public views (health, the emulator) are marked @login_not_required."""

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.views.decorators.http import require_GET


@login_not_required
@require_GET
def health(request):
    return JsonResponse({"status": "ok"})
