"""Django admin: secrets are write-only (typed once, shown masked after), the delivery log read-only,
and every change to apps, their tokens and users is in the audit trail (events/audit/admin.py)."""

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from events import audit
from events.audit import VIA, AuditedAdmin
from events.models import App, Attempt, Delivery, EventToken, SecurityToken


class SecretInputForm(forms.ModelForm):
    """Replaces the model's secret field by a write-only input; blank keeps the stored value."""

    write_only_field = ""

    new_secret = forms.CharField(
        label="Secret",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = getattr(self.instance, self.write_only_field, "") if self.instance.pk else ""
        field = self.fields["new_secret"]
        field.label = self.Meta.model._meta.get_field(self.write_only_field).verbose_name.capitalize()
        if current:
            field.help_text = (
                f"Stored: ••••{current[-4:] if len(current) >= 8 else ''}. Leave blank to keep it."
            )
        else:
            field.required = True

    def save(self, commit=True):
        if self.cleaned_data.get("new_secret"):
            setattr(self.instance, self.write_only_field, self.cleaned_data["new_secret"])
        return super().save(commit)


class AppForm(SecretInputForm):
    write_only_field = "app_key"

    class Meta:
        model = App
        fields = ["name", "provider", "platform", "bundle_id", "default_environment", "active"]


class SecurityTokenForm(SecretInputForm):
    write_only_field = "value"

    class Meta:
        model = SecurityToken
        fields = ["label", "active"]


class EventTokenInline(admin.TabularInline):
    model = EventToken
    extra = 0
    fields = ["name", "token", "kind", "archived_at"]


class SecurityTokenInline(admin.TabularInline):
    model = SecurityToken
    form = SecurityTokenForm
    extra = 0
    fields = ["label", "new_secret", "active", "created_at", "last_used_at"]
    readonly_fields = ["created_at", "last_used_at"]


@admin.register(App)
class AppAdmin(AuditedAdmin, admin.ModelAdmin):
    form = AppForm
    list_display = [
        "name",
        "provider",
        "platform",
        "bundle_id",
        "masked_key",
        "default_environment",
        "active",
    ]
    list_filter = ["provider", "platform", "active"]
    search_fields = ["name", "bundle_id"]
    fields = ["name", "provider", "platform", "new_secret", "bundle_id", "default_environment", "active"]
    inlines = [EventTokenInline, SecurityTokenInline]

    @admin.display(description="App token / SDK key")
    def masked_key(self, app: App) -> str:
        return f"••••{app.app_key_last4}" if app.app_key_last4 else "••••"


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AttemptInline(admin.StackedInline):
    model = Attempt
    extra = 0
    can_delete = False
    fields = [
        ("number", "outcome", "ambiguous", "response_status", "duration_ms"),
        ("started_at", "finished_at"),
        "mmp_message",
        "explanation",
        "error",
        ("method", "url"),
        "request_headers",
        "request_body",
        "response_headers",
        ("response_body", "response_truncated"),
    ]
    readonly_fields = [f for row in fields for f in (row if isinstance(row, tuple) else (row,))]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "id", "created_at", "app", "event_token", "device_id", "source", "environment",
        "status", "last_http_status", "attempt_count", "ambiguous", "last_duration_ms",
    ]  # fmt: skip
    list_filter = ["status", "source", "environment", "ambiguous", "app"]
    search_fields = ["=id", "device_id", "idempotency_key", "last_message"]
    list_select_related = ["app", "event_token"]
    date_hierarchy = "created_at"
    inlines = [AttemptInline]


@admin.register(Attempt)
class AttemptAdmin(ReadOnlyAdmin):
    list_display = ["id", "delivery", "number", "started_at", "response_status", "outcome", "duration_ms"]
    list_filter = ["outcome", "ambiguous", "response_status"]
    search_fields = ["=delivery__id", "mmp_message", "response_body"]
    list_select_related = ["delivery"]


admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class AuditedUserAdmin(AuditedAdmin, UserAdmin):
    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:  # saved, not a form with errors
            user = self.get_object(request, unquote(id))
            audit.record_change(request.user, "user.password_set", user, VIA)
        return response
