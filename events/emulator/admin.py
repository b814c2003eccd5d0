"""The emulator's state in the admin: what it knows, what it recorded, which faults are on.
Credentials appear masked in every list."""

from django.contrib import admin

from events.emulator.models import (
    EmuAdjustApp,
    EmuAdjustDevice,
    EmuAdjustDeviceId,
    EmuAdjustEventToken,
    EmuAdjustSecurityToken,
    EmuAppsFlyerApp,
    EmuAppsFlyerToken,
    EmuFaults,
    EmuRecordedEvent,
    EmuSingularDevice,
    EmuSingularKey,
    EmuTenjinApp,
    EmuTenjinKey,
    mask,
)


class EventTokenInline(admin.TabularInline):
    model = EmuAdjustEventToken
    extra = 0


class SecurityTokenInline(admin.TabularInline):
    model = EmuAdjustSecurityToken
    extra = 0


@admin.register(EmuAdjustApp)
class EmuAdjustAppAdmin(admin.ModelAdmin):
    list_display = ["app_token", "active", "s2s_auth_enabled", "auth_failure_mode", "lenient_devices"]
    inlines = [EventTokenInline, SecurityTokenInline]


@admin.register(EmuAdjustSecurityToken)
class EmuAdjustSecurityTokenAdmin(admin.ModelAdmin):
    list_display = ["masked_value", "app", "active", "scopes"]
    list_select_related = ["app"]

    @admin.display(description="token")
    def masked_value(self, token: EmuAdjustSecurityToken) -> str:
        return mask(token.value)


class DeviceIdInline(admin.TabularInline):
    model = EmuAdjustDeviceId
    fields = ["kind", "value"]
    extra = 0


@admin.register(EmuAdjustDevice)
class EmuAdjustDeviceAdmin(admin.ModelAdmin):
    list_display = ["id", "app", "installed_at", "opted_out"]
    list_filter = ["opted_out"]
    list_select_related = ["app"]
    inlines = [DeviceIdInline]

    def save_formset(self, request, form, formset, change):
        # The identifier repeats the device's app (for its lookup index).
        for identifier in formset.save(commit=False):
            identifier.app_id = form.instance.app_id
            identifier.save()
        for identifier in formset.deleted_objects:
            identifier.delete()


@admin.register(EmuTenjinApp)
class EmuTenjinAppAdmin(admin.ModelAdmin):
    list_display = ["bundle_id", "platform", "lenient", "ignored_versions"]


@admin.register(EmuTenjinKey)
class EmuTenjinKeyAdmin(admin.ModelAdmin):
    list_display = ["masked_value", "enabled", "account_level"]
    filter_horizontal = ["apps"]

    @admin.display(description="key")
    def masked_value(self, key: EmuTenjinKey) -> str:
        return mask(key.value)


class AppsFlyerTokenInline(admin.TabularInline):
    model = EmuAppsFlyerToken
    extra = 0


@admin.register(EmuAppsFlyerApp)
class EmuAppsFlyerAppAdmin(admin.ModelAdmin):
    list_display = ["app_id", "platform", "zero_plan", "token_count"]
    inlines = [AppsFlyerTokenInline]

    @admin.display(description="S2S tokens")
    def token_count(self, app: EmuAppsFlyerApp) -> int:
        return app.tokens.count()


@admin.register(EmuSingularKey)
class EmuSingularKeyAdmin(admin.ModelAdmin):
    list_display = ["masked_value", "s2s_enabled"]

    @admin.display(description="key")
    def masked_value(self, key: EmuSingularKey) -> str:
        return mask(key.value)


@admin.register(EmuSingularDevice)
class EmuSingularDeviceAdmin(admin.ModelAdmin):
    list_display = ["device_id", "app", "launched_at", "last_event_at"]
    search_fields = ["device_id", "app"]


@admin.register(EmuRecordedEvent)
class EmuRecordedEventAdmin(admin.ModelAdmin):
    list_display = [
        *("received_at", "provider", "kind", "app_key", "event_token", "environment", "fault"),
        "dropped_silently",
    ]
    list_filter = ["provider", "kind", "environment", "fault", "dropped_silently"]
    search_fields = ["app_key", "event_token"]
    date_hierarchy = "received_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(EmuFaults)
class EmuFaultsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "error_500", "error_429", "timeout", "error_500_after_record", "latency_ms"]
    exclude = ["version"]

    def save_model(self, request, obj, form, change):
        obj.version += 1  # a request holding the old script must not write over the new one
        super().save_model(request, obj, form, change)
