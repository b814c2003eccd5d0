"""Changes made in Django's admin go to the same audit trail as the dashboard's: who, what, and
each field before and after (secrets masked by changes.py; passwords never recorded at all),
for the object itself and for the rows edited inline on its page (event and security tokens)."""

from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from django.forms import BaseModelForm

from events.audit import changes as audit
from events.models import App, EventToken, SecurityToken

VIA = {"via": "Django admin"}


def object_type(obj: models.Model) -> str:
    """The audit trail's name for this kind of object, as the dashboard's own entries use it."""
    names = {App: "app", EventToken: "event_token", SecurityToken: "security_token"}
    return "user" if isinstance(obj, get_user_model()) else names[type(obj)]


def shown(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, models.QuerySet | list | tuple | set):
        return ", ".join(sorted(str(item) for item in value))
    return value


def secret_field(form: BaseModelForm) -> str:
    """The model field a write-only secret input sets (events.admin.SecretInputForm), if any."""
    return getattr(form, "write_only_field", "")


def form_changes(form: BaseModelForm, secret_before: str, *, created: bool) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name in form.changed_data:
        if name.startswith("password") or name == "usable_password":
            changes["new password"] = True  # that it changed, never the value, not even masked
        elif name == "new_secret":
            field = secret_field(form)
            after = getattr(form.instance, field)
            changes[field] = after if created else [secret_before or None, after]
        elif created:
            changes[name] = shown(form.cleaned_data.get(name))
        else:
            changes[name] = [shown(form.initial.get(name)), shown(form.cleaned_data.get(name))]
    return changes


class AuditedAdmin:
    """A ModelAdmin mixin: every save and delete, on the page and inline, is an audit entry."""

    def save_form(self, request, form, change):
        # The secret as it was: the form's save(commit=False), just below, puts the new one in.
        field = secret_field(form)
        form.secret_before = getattr(form.instance, field) if field and form.instance.pk else ""
        return super().save_form(request, form, change)

    def save_model(self, request, obj, form, change):
        created = obj.pk is None
        super().save_model(request, obj, form, change)
        self._record(request, obj, form, getattr(form, "secret_before", ""), created)

    def save_formset(self, request, form, formset, change):
        planned = []
        for inline in formset.forms:
            if not hasattr(inline, "cleaned_data") or not inline.instance:
                continue
            if inline in formset.deleted_forms:
                if inline.instance.pk:
                    planned.append(("deleted", inline, inline.instance.pk, ""))
            elif inline.has_changed():
                field = secret_field(inline)
                before = getattr(inline.instance, field, "") if field and inline.instance.pk else ""
                planned.append(("created" if inline.instance.pk is None else "updated", inline, None, before))
        super().save_formset(request, form, formset, change)
        for verb, inline, pk, before in planned:
            if verb == "deleted":
                record_deleted(request.user, inline.instance, pk)
            else:
                self._record(request, inline.instance, inline, before, verb == "created")

    def delete_model(self, request, obj):
        pk = obj.pk
        super().delete_model(request, obj)
        record_deleted(request.user, obj, pk)

    def delete_queryset(self, request, queryset):
        deleted = [(obj, obj.pk) for obj in queryset]
        super().delete_queryset(request, queryset)
        for obj, pk in deleted:
            record_deleted(request.user, obj, pk)

    def _record(self, request, obj, form, secret_before: str, created: bool) -> None:
        changes = form_changes(form, secret_before, created=created)
        if changes:
            verb = "created" if created else "updated"
            audit.record_change(request.user, f"{object_type(obj)}.{verb}", obj, {**changes, **VIA})


def record_deleted(actor, obj: models.Model, pk: Any) -> None:
    audit.record_change(actor, f"{object_type(obj)}.deleted", obj, VIA, object_id=pk)
