"""The audit trail, newest first, filterable by app."""

from django import forms
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from events.audit import described
from events.models import App, AuditEntry

PER_PAGE = 50


class AuditFilter(forms.Form):
    app = forms.ModelChoiceField(App.objects.all(), required=False, empty_label="All apps")


@require_GET
@permission_required("events.view_auditentry", raise_exception=True)
def audit_list(request):
    entries = AuditEntry.objects.select_related("app")
    form = AuditFilter(request.GET or None)
    if form.is_valid() and form.cleaned_data["app"]:
        entries = entries.filter(app=form.cleaned_data["app"])
    page = Paginator(entries, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "entries": described(page), "query": query.urlencode()}
    return render(request, "events/manage/audit.html", context)
