"""Saved views of the request log: a user names the filters they use often and finds them in the
log's header. Each user sees and changes only their own."""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from events.accounts.models import SavedView
from events.forms.log import LogFilterForm
from events.views.common import require_perm

MAX_PER_USER = 30


def get_saved_view_for_user(request: HttpRequest, pk: int) -> SavedView:
    require_perm(request, "events.view_delivery")
    return get_object_or_404(SavedView, pk=pk, user=request.user)


def log_filters(data) -> str:
    """The log's own filters from a query (no paging, no unknown keys), as a query string."""
    form = LogFilterForm(data)
    return urlencode({name: data.get(name) for name in form.fields if data.get(name)})


@require_POST
def saved_view_save(request: HttpRequest) -> HttpResponse:
    require_perm(request, "events.view_delivery")
    name = " ".join(request.POST.get("name", "").split())[:80]
    query = log_filters(request.POST)
    if not name or not query:
        messages.error(request, "Give the view a name, and filter the log first: there is nothing to save.")
    elif (
        not SavedView.objects.filter(user=request.user, name=name).exists()
        and SavedView.objects.filter(user=request.user).count() >= MAX_PER_USER
    ):
        messages.error(request, f"You have {MAX_PER_USER} saved views already; delete one first.")
    else:
        SavedView.objects.update_or_create(user=request.user, name=name, defaults={"query": query})
        messages.success(request, f"Saved the view '{name}': find it above the filters.")
    return redirect(f"{reverse('log')}?{query}" if query else reverse("log"))


@require_POST
def saved_view_delete(request: HttpRequest, pk: int) -> HttpResponse:
    view = get_saved_view_for_user(request, pk)
    view.delete()
    messages.success(request, f"Deleted the saved view '{view.name}'.")
    return redirect("log")
