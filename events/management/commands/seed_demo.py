"""A demo app for each MMP, and the emulator's matching registry. Safe to run again."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from events.emulator import registry
from events.models import App, Environment, EventKind, EventToken, Platform, Provider, SecurityToken

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
        adjust = upsert_app(ADJUST)
        for name, token in ADJUST_EVENTS:
            EventToken.objects.get_or_create(app=adjust, token=token, defaults={"name": name})
        if not adjust.security_tokens.filter(active=True).exists():
            SecurityToken.objects.create(app=adjust, label="demo", value=ADJUST_SECURITY_TOKEN)
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

        tenjin = upsert_app(TENJIN)
        for name, token, kind in TENJIN_EVENTS:
            EventToken.objects.get_or_create(app=tenjin, token=token, defaults={"name": name, "kind": kind})
        registry.register_tenjin_app(tenjin.bundle_id, tenjin.platform, sdk_keys=[tenjin.app_key])

        appsflyer = upsert_app(APPSFLYER)
        for name, token in APPSFLYER_EVENTS:
            EventToken.objects.get_or_create(app=appsflyer, token=token, defaults={"name": name})
        registry.register_appsflyer_app(appsflyer.bundle_id, "ios", s2s_tokens=[appsflyer.app_key])

        singular = upsert_app(SINGULAR)
        for name, token in SINGULAR_EVENTS:
            EventToken.objects.get_or_create(app=singular, token=token, defaults={"name": name})
        registry.register_singular_key(singular.app_key)
        registry.add_singular_session(singular.bundle_id, "Android", SINGULAR_DEMO_SDID)

        self.stdout.write(
            f"==> Demo apps ready: {adjust.name!r} (events {', '.join(t for _, t in ADJUST_EVENTS)}), "
            f"{tenjin.name!r} (events {', '.join(t for _, t, _ in TENJIN_EVENTS)}), "
            f"{appsflyer.name!r} (appsflyer_id {APPSFLYER_DEMO_ID}) and {singular.name!r} "
            f"(sdid {SINGULAR_DEMO_SDID}); the emulator knows them. "
            f"Opted-out demo device: idfa={OPTED_OUT_IDFA}"
        )


def upsert_app(spec: dict) -> App:
    app = App.objects.filter(name=spec["name"]).first() or App(name=spec["name"])
    for field, value in spec.items():
        if field != "app_key" or not app.pk:
            setattr(app, field, value)
    app.save()
    return app
