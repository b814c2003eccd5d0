from django.contrib.auth.decorators import permission_required
from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
@permission_required("events.view_delivery", raise_exception=True)
def overview(request):
    return render(request, "events/overview.html", {})
