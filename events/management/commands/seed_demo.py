"""A demo app for each MMP, and the emulator's matching registry. Safe to run again: it creates
only what is missing (an app, an event token), so an admin's changes to the demo apps stay as they
are; each thing it creates is in the audit trail, by "(system)"."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from events import audit
from events.emulator import registry
from events.models import App, Environment, EventKind, EventToken, Platform, Provider, SecurityToken
from events.monitoring.models import Canary

ADJUST = {
    "name": "Demo Adjust iOS",
    "provider": Provider.ADJUST,
    "platform": Platform.IOS,
    "app_key": "4w565xzmb54d",  # the app token of Adjust's own documentation examples
    "bundle_id": "com.example.s2sdemo",
    "default_environment": Environment.SANDBOX,
}
ADJUST_EVENTS = [("Purchase", "f0ob4r"), ("Signup", "2y7e81"), ("Tutorial complete (unique)", "tut0r1")]
ADJUST_UNIQUE_TOKEN = "tut0r1"
ADJUST_SECURITY_TOKEN = "demo0s2s0security0token00000001"
# The emulated Adjust knows every device id (lenient) except this one, which opted out (451).
OPTED_OUT_IDFA = "0000DEAD-0000-4000-8000-000000000451"
# The demo Adjust app's canary: a purchase from this test device every few minutes, to the emulator.
CANARY_IDFA = "CA4A41E5-0000-4000-8000-000000000001"
CANARY_EVERY_MINUTES = 5

TENJIN = {
    "name": "Demo Tenjin Android",
    "provider": Provider.TENJIN,
    "platform": Platform.ANDROID,
    "app_key": "ENECCCVB8UQVLPSQ58S8EZXTJHA7FHDW",  # the SDK key of Tenjin's documentation example
    "bundle_id": "com.tenjin.wordfinder",
    "default_environment": Environment.PRODUCTION,  # Tenjin keeps no sandbox
}
TENJIN_EVENTS = [("Level up", "level_up", EventKind.EVENT), ("Purchase", "purchase", EventKind.PURCHASE)]

APPSFLYER = {
    "name": "Demo AppsFlyer iOS",
    "provider": Provider.APPSFLYER,
    "platform": Platform.IOS,
    "app_key": "0d3f5b7a-9c1e-4f2a-8b6d-demo00s2s001",  # the app's S2S token (Security Center)
    "bundle_id": "id1234567890",  # the AppsFlyer app id: `id` + the App Store id on iOS
    "default_environment": Environment.PRODUCTION,  # AppsFlyer keeps no sandbox
}
APPSFLYER_EVENTS = [("Purchase", "af_purchase"), ("Level achieved", "af_level_achieved")]
# An appsflyer_id the demo's test events can use (13 digits, a hyphen, digits).
APPSFLYER_DEMO_ID = "1700000000000-1234567"

SINGULAR = {
    "name": "Demo Singular Android",
    "provider": Provider.SINGULAR,
    "platform": Platform.ANDROID,
    "app_key": "demo_singular_sdk_key_00000001",
    "bundle_id": "com.example.s2sdemo",
    "api_version": "v2",
    "default_environment": Environment.PRODUCTION,  # Singular keeps no sandbox
}
SINGULAR_EVENTS = [("Level up", "level_up"), ("Purchase", "sng_ecommerce_purchase")]
# A device with a session (launch) at the emulated Singular, so its events are attributed.
SINGULAR_DEMO_SDID = "40009df0-d618-4d81-9da1-cbb3337b8dec"


class Command(BaseCommand):
    help = "Create the demo apps and the emulator's registry for them (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        if not settings.EMULATOR_ENABLED:
            # The emulator keeps the tokens it checks in plain text, like the fixtures they are.
            raise CommandError(
                "seed_demo sets up the MMP emulator: run it where EMULATOR_ENABLED is on (demo, development)."
            )
        adjust, created = app_unless_present(ADJUST)
        for name, token in ADJUST_EVENTS:
            event_token_unless_present(adjust, token, name)
        if created:
            token = SecurityToken.objects.create(app=adjust, label="demo", value=ADJUST_SECURITY_TOKEN)
            audit.record_change(
                None,
                "security_token.added",
                token,
                {"label": token.label, "value": token.value, "active": True},
            )
        security_tokens = [t.value for t in adjust.security_tokens.filter(active=True)]
        registry.register_adjust_app(
            adjust.app_key,
            event_tokens=[token for _, token in ADJUST_EVENTS if token != ADJUST_UNIQUE_TOKEN],
            security_tokens=security_tokens,
            auth_enabled=True,
            lenient_devices=True,
        )
        registry.add_adjust_event_token(adjust.app_key, ADJUST_UNIQUE_TOKEN, unique=True)
        registry.add_adjust_device(adjust.app_key, {"idfa": OPTED_OUT_IDFA}, opted_out=True)
        if created:
            Canary.objects.create(
                app=adjust,
                enabled=True,
                every_minutes=CANARY_EVERY_MINUTES,
                event_token=adjust.event_tokens.get(token=ADJUST_EVENTS[0][1]),
                device_id_type="idfa",
                device_id=CANARY_IDFA,
            )

        tenjin, _ = app_unless_present(TENJIN)
        for name, token, kind in TENJIN_EVENTS:
            event_token_unless_present(tenjin, token, name, kind)
        registry.register_tenjin_app(tenjin.bundle_id, tenjin.platform, sdk_keys=[tenjin.app_key])

        appsflyer, _ = app_unless_present(APPSFLYER)
        for name, token in APPSFLYER_EVENTS:
            event_token_unless_present(appsflyer, token, name)
        registry.register_appsflyer_app(appsflyer.bundle_id, "ios", s2s_tokens=[appsflyer.app_key])

        singular, _ = app_unless_present(SINGULAR)
        for name, token in SINGULAR_EVENTS:
            event_token_unless_present(singular, token, name)
        registry.register_singular_key(singular.app_key)
        registry.add_singular_session(singular.bundle_id, "Android", SINGULAR_DEMO_SDID)

        self.stdout.write(
            f"==> Demo apps ready: {adjust.name!r} (events {', '.join(t for _, t in ADJUST_EVENTS)}), "
            f"{tenjin.name!r} (events {', '.join(t for _, t, _ in TENJIN_EVENTS)}), "
            f"{appsflyer.name!r} (appsflyer_id {APPSFLYER_DEMO_ID}) and {singular.name!r} "
            f"(sdid {SINGULAR_DEMO_SDID}); the emulator knows them. "
            f"Opted-out demo device: idfa={OPTED_OUT_IDFA}. {adjust.name!r} has a canary (its Alerts page)."
        )


def app_unless_present(spec: dict) -> tuple[App, bool]:
    """The demo app of this name, created only when missing: an existing one is left as it is."""
    app = App.objects.filter(name=spec["name"]).first()
    if app is not None:
        return app, False
    app = App.objects.create(**spec)
    audit.record_change(None, "app.created", app, audit.snapshot(app, spec))
    return app, True


def event_token_unless_present(app: App, token: str, name: str, kind: str = EventKind.EVENT) -> None:
    if app.event_tokens.filter(token=token).exists():
        return
    created = EventToken.objects.create(app=app, token=token, name=name, kind=kind)
    audit.record_change(
        None, "event_token.created", created, audit.snapshot(created, ("name", "token", "kind")), app
    )
