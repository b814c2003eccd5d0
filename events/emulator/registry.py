"""Configuring the emulator without touching its models: for seed_demo, the demo and tests.

Every `register_*`/`add_*` call is idempotent: called again with the same arguments it changes
nothing, with other arguments it updates the row to match, so re-running a seed never fails.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from events.emulator.adjust_state import LENIENT_INSTALL_AGE, find_device, forget_device, install_device
from events.emulator.models import (
    ADJUST_PLATFORMS,
    ADJUST_SCOPES,
    APPSFLYER_PLATFORMS,
    TENJIN_PLATFORMS,
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
)

# --- Adjust -------------------------------------------------------------------------------


def register_adjust_app(
    app_token: str,
    *,
    event_tokens: Iterable[str] = (),
    security_tokens: Iterable[str] = (),
    auth_enabled: bool = False,
    auth_failure_mode: str = "401",
    auth_enforced_scopes: Iterable[str] = ADJUST_SCOPES,
    lenient_devices: bool = True,
    platforms: Iterable[str] = ADJUST_PLATFORMS,
    active: bool = True,
    skan_enabled: bool = False,
    require_currency_with_revenue: bool = False,
) -> EmuAdjustApp:
    """An Adjust app with plain event tokens and active all-scope security tokens; use
    add_adjust_event_token / add_adjust_security_token for flags and scopes."""
    if auth_failure_mode not in EmuAdjustApp.AuthFailureMode.values:
        raise ValueError(f"auth_failure_mode must be '401' or '202', not {auth_failure_mode!r}")
    app, _ = EmuAdjustApp.objects.update_or_create(
        app_token=app_token,
        defaults={
            "active": active,
            "tracking_enabled_platforms": list(platforms),
            "s2s_auth_enabled": auth_enabled,
            "auth_failure_mode": auth_failure_mode,
            "auth_enforced_scopes": list(auth_enforced_scopes),
            "lenient_devices": lenient_devices,
            "skan_enabled": skan_enabled,
            "require_currency_with_revenue": require_currency_with_revenue,
        },
    )
    for token in event_tokens:
        add_adjust_event_token(app_token, token)
    for value in security_tokens:
        add_adjust_security_token(app_token, value)
    return app


def add_adjust_event_token(
    app_token: str, token: str, *, unique: bool = False, blocklisted: bool = False
) -> EmuAdjustEventToken:
    app = EmuAdjustApp.objects.get(app_token=app_token)
    event_token, _ = EmuAdjustEventToken.objects.update_or_create(
        app=app, token=token, defaults={"unique": unique, "blocklisted": blocklisted}
    )
    return event_token


def add_adjust_security_token(
    app_token: str, value: str, *, active: bool = True, scopes: Iterable[str] = ()
) -> EmuAdjustSecurityToken:
    """`scopes` empty means every scope, like Adjust's tokens created before scopes existed."""
    app = EmuAdjustApp.objects.get(app_token=app_token)
    token, _ = EmuAdjustSecurityToken.objects.update_or_create(
        app=app, value=value, defaults={"active": active, "scopes": list(scopes)}
    )
    return token


def add_adjust_device(
    app_token: str,
    identifiers: dict[str, str],
    *,
    installed_at: datetime | None = None,
    opted_out: bool = False,
) -> EmuAdjustDevice:
    """A device of the app; one already known by any of these identifiers is updated and gets
    the new identifiers. `installed_at` defaults to long ago."""
    if not identifiers:
        raise ValueError("a device needs at least one identifier")
    app = EmuAdjustApp.objects.get(app_token=app_token)
    installed_at = installed_at or timezone.now() - LENIENT_INSTALL_AGE
    with transaction.atomic():
        device = find_device(app, identifiers)
        if device is None:
            return install_device(app, identifiers, installed_at=installed_at, opted_out=opted_out)
        device.installed_at, device.opted_out = installed_at, opted_out
        device.save(update_fields=["installed_at", "opted_out"])
        EmuAdjustDeviceId.objects.bulk_create(
            [EmuAdjustDeviceId(app=app, device=device, kind=k, value=v) for k, v in identifiers.items()],
            ignore_conflicts=True,
        )
    return device


def forget_adjust_device(app_token: str, identifiers: dict[str, str]) -> EmuAdjustDevice:
    """What a gdpr_forget_device request does: the device, known or not, is opted out."""
    return forget_device(EmuAdjustApp.objects.get(app_token=app_token), identifiers, now=timezone.now())


# --- Tenjin -------------------------------------------------------------------------------


def register_tenjin_app(
    bundle_id: str,
    platform: str,
    *,
    sdk_keys: Iterable[str] = (),
    lenient: bool = False,
    ignored_versions: Iterable[str] = (),
) -> EmuTenjinApp:
    """A Tenjin app (one bundle id on one platform) with enabled SDK keys of its own."""
    if platform not in TENJIN_PLATFORMS:
        raise ValueError(f"platform must be one of {', '.join(TENJIN_PLATFORMS)}, not {platform!r}")
    app, _ = EmuTenjinApp.objects.update_or_create(
        bundle_id=bundle_id,
        platform=platform,
        defaults={"lenient": lenient, "ignored_versions": list(ignored_versions)},
    )
    for value in sdk_keys:
        add_tenjin_key(value, [(bundle_id, platform)])
    return app


def add_tenjin_key(
    value: str, apps: Iterable[tuple[str, str]], *, enabled: bool = True, account_level: bool = False
) -> EmuTenjinKey:
    """A key for the given (bundle_id, platform) apps, which must be registered; an SDK key
    names one app, an account-level key several. Apps are added, never removed."""
    key, _ = EmuTenjinKey.objects.update_or_create(
        value=value, defaults={"enabled": enabled, "account_level": account_level}
    )
    for bundle_id, platform in apps:
        key.apps.add(EmuTenjinApp.objects.get(bundle_id=bundle_id, platform=platform))
    return key


def set_tenjin_key_enabled(value: str, enabled: bool) -> None:
    EmuTenjinKey.objects.filter(value=value).update(enabled=enabled)


# --- AppsFlyer ---------------------------------------------------------------------------


def register_appsflyer_app(
    app_id: str, platform: str, *, s2s_tokens: Iterable[str] = (), zero_plan: bool = False
) -> EmuAppsFlyerApp:
    """An AppsFlyer app (id123... on iOS) with its S2S tokens; `zero_plan` refuses S2S (403)."""
    if platform not in APPSFLYER_PLATFORMS:
        raise ValueError(f"platform must be one of {', '.join(APPSFLYER_PLATFORMS)}, not {platform!r}")
    app, _ = EmuAppsFlyerApp.objects.update_or_create(
        app_id=app_id, defaults={"platform": platform, "zero_plan": zero_plan}
    )
    for value in s2s_tokens:
        EmuAppsFlyerToken.objects.update_or_create(value=value, defaults={"app": app})
    return app


# --- Singular -----------------------------------------------------------------------------


def register_singular_key(value: str, *, s2s_enabled: bool = True) -> EmuSingularKey:
    """An SDK key of the account: any bundle id may send with it, as at Singular."""
    key, _ = EmuSingularKey.objects.update_or_create(value=value, defaults={"s2s_enabled": s2s_enabled})
    return key


def add_singular_session(bundle_id: str, platform: str, device_id: str, *, at: datetime | None = None):
    """What a /launch for this device would leave: its events are then attributed."""
    device, _ = EmuSingularDevice.objects.update_or_create(
        app=f"{bundle_id} ({platform})", device_id=device_id, defaults={"launched_at": at or timezone.now()}
    )
    return device


# --- Faults -------------------------------------------------------------------------------

FAULT_FIELDS = {
    "error_500",
    "error_429",
    "timeout",
    "timeout_after_record",
    "error_500_after_record",
    "dropped",
    "dropped_after_record",
    "latency_ms",
    "retry_after_seconds",
    "timeout_seconds",
    "script",
    "provider",
}


def set_faults(**fields: Any) -> EmuFaults:
    """Change some fault settings, keep the others; validated before saving."""
    unknown = set(fields) - FAULT_FIELDS
    if unknown:
        raise TypeError(f"unknown fault settings: {', '.join(sorted(unknown))}")
    faults = EmuFaults.objects.filter(pk=EmuFaults.SINGLETON_PK).first() or EmuFaults()
    for name, value in fields.items():
        setattr(faults, name, list(value) if name == "script" else value)
    _validate(faults)
    faults.version += 1  # a request holding the old script must not write over the new one
    faults.save()
    return faults


def _validate(faults: EmuFaults) -> None:
    try:
        faults.clean()
    except ValidationError as error:
        raise ValueError(" ".join(error.messages)) from None
    if faults.provider not in EmuFaults.Scope.values:
        raise ValueError(f"provider must be one of {EmuFaults.Scope.values}, not {faults.provider!r}")


def script_faults(entries: Iterable[str], *, provider: str | None = None) -> EmuFaults:
    """Replace the script: the next requests get these answers in order, then the shares apply.
    "pass" answers normally. `provider` ("adjust", "tenjin" or "" for both) scopes all faults;
    left out, the scope stays as it was."""
    scope = {} if provider is None else {"provider": provider}
    return set_faults(script=list(entries), **scope)


def clear_faults() -> EmuFaults:
    """No faults, no latency, no script."""
    faults = EmuFaults.objects.filter(pk=EmuFaults.SINGLETON_PK).first() or EmuFaults()
    version = faults.version
    faults = EmuFaults(version=version + 1)
    faults.save()
    return faults


# --- What was received --------------------------------------------------------------------


def recorded_events(
    provider: str | None = None,
    *,
    app_key: str | None = None,
    event_token: str | None = None,
    kind: str | None = None,
) -> QuerySet[EmuRecordedEvent]:
    """Accepted events, oldest first, optionally narrowed; a QuerySet, so .count() is cheap."""
    events = EmuRecordedEvent.objects.order_by("received_at", "id")
    filters = {"provider": provider, "app_key": app_key, "event_token": event_token, "kind": kind}
    return events.filter(**{name: value for name, value in filters.items() if value is not None})


def clear_recorded_events() -> int:
    return EmuRecordedEvent.objects.all().delete()[0]


def reset_emulator() -> None:
    """Forget everything: apps, keys, devices, recorded events and faults."""
    with transaction.atomic():
        EmuRecordedEvent.objects.all().delete()
        EmuAdjustApp.objects.all().delete()
        EmuTenjinKey.objects.all().delete()
        EmuTenjinApp.objects.all().delete()
        EmuAppsFlyerApp.objects.all().delete()
        EmuSingularKey.objects.all().delete()
        EmuSingularDevice.objects.all().delete()
        EmuFaults.objects.all().delete()
