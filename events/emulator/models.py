"""The emulator's state: the apps, tokens and devices it knows, what it recorded, and its faults.

These rows play the MMP's side. They are test fixtures, configured through `registry.py`, and
never read by the sender, which only meets the emulator over HTTP.
"""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

ADJUST_SCOPES = ("events", "sessions", "ad_revenue", "gdpr")
ADJUST_PLATFORMS = ("ios", "android", "windows", "web")
TENJIN_PLATFORMS = ("ios", "android", "amazon", "android_other", "windows")
APPSFLYER_PLATFORMS = ("ios", "android", "windows")
# Singular's own platform names (`p`), as its documentation lists them.
SINGULAR_PLATFORMS = ("Android", "iOS", "PC", "Xbox", "Playstation", "Nintendo", "MetaQuest", "CTV")


def mask(secret: str) -> str:
    """Enough of a credential to tell two apart, never enough to use one."""
    return "••••" + secret[-4:] if len(secret) >= 8 else "••••"


def _all_adjust_platforms() -> list[str]:
    return list(ADJUST_PLATFORMS)


def _all_adjust_scopes() -> list[str]:
    return list(ADJUST_SCOPES)


class Provider(models.TextChoices):
    ADJUST = "adjust", "Adjust"
    TENJIN = "tenjin", "Tenjin"
    APPSFLYER = "appsflyer", "AppsFlyer"
    SINGULAR = "singular", "Singular"


# --- Adjust -------------------------------------------------------------------------------


class EmuAdjustApp(models.Model):
    class AuthFailureMode(models.TextChoices):
        # Adjust documents both answers for a missing or wrong token (mmp-apis.md §1.2).
        HTTP_401 = "401", "401 Failed to authorize request (overview page)"
        HTTP_202 = "202", "202 Missing/Wrong authentication token (security page)"

    app_token = models.CharField(max_length=64, unique=True)
    active = models.BooleanField(default=True)
    tracking_enabled_platforms = models.JSONField(default=_all_adjust_platforms)
    s2s_auth_enabled = models.BooleanField(default=False)
    auth_enforced_scopes = models.JSONField(default=_all_adjust_scopes)
    auth_failure_mode = models.CharField(
        max_length=3, choices=AuthFailureMode.choices, default=AuthFailureMode.HTTP_401
    )
    lenient_devices = models.BooleanField(
        default=True,
        help_text="Any well-formed device id counts as installed (the device is created on first sight).",
    )
    skan_enabled = models.BooleanField(default=False, help_text="Add skadn_* keys to accepted answers.")
    require_currency_with_revenue = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "Adjust app"
        ordering = ["app_token"]

    def __str__(self) -> str:
        return self.app_token


class EmuAdjustSecurityToken(models.Model):
    app = models.ForeignKey(EmuAdjustApp, on_delete=models.CASCADE, related_name="security_tokens")
    value = models.CharField(max_length=255)
    active = models.BooleanField(default=True)
    scopes = models.JSONField(default=list, blank=True, help_text="Empty means every scope.")

    class Meta:
        verbose_name = "Adjust S2S security token"
        constraints = [models.UniqueConstraint(fields=["app", "value"], name="emu_adjust_token_unique")]

    def __str__(self) -> str:
        return mask(self.value)

    def covers(self, scope: str) -> bool:
        return not self.scopes or scope in self.scopes


class EmuAdjustEventToken(models.Model):
    app = models.ForeignKey(EmuAdjustApp, on_delete=models.CASCADE, related_name="event_tokens")
    token = models.CharField(max_length=64)
    unique = models.BooleanField(default=False)
    blocklisted = models.BooleanField(default=False)

    class Meta:
        verbose_name = "Adjust event token"
        constraints = [models.UniqueConstraint(fields=["app", "token"], name="emu_adjust_event_token_unique")]

    def __str__(self) -> str:
        return self.token


class EmuAdjustDevice(models.Model):
    app = models.ForeignKey(EmuAdjustApp, on_delete=models.CASCADE, related_name="devices")
    installed_at = models.DateTimeField()
    opted_out = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "Adjust device"

    def __str__(self) -> str:
        return f"device {self.pk} of {self.app_id}"


class EmuAdjustDeviceId(models.Model):
    """One identifier of a device; the app is repeated here so lookups use one index."""

    app = models.ForeignKey(EmuAdjustApp, on_delete=models.CASCADE, related_name="+")
    device = models.ForeignKey(EmuAdjustDevice, on_delete=models.CASCADE, related_name="identifiers")
    kind = models.CharField(max_length=40)
    value = models.CharField(max_length=255)

    class Meta:
        verbose_name = "Adjust device identifier"
        constraints = [
            models.UniqueConstraint(fields=["app", "kind", "value"], name="emu_adjust_device_id_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind}={self.value}"


class EmuAdjustEventState(models.Model):
    """What Adjust remembers per device and event token: the ordering and uniqueness rules."""

    device = models.ForeignKey(EmuAdjustDevice, on_delete=models.CASCADE, related_name="event_states")
    event_token = models.ForeignKey(EmuAdjustEventToken, on_delete=models.CASCADE, related_name="+")
    last_created_at = models.DateTimeField(null=True, blank=True)
    unique_seen = models.BooleanField(default=False)

    class Meta:
        verbose_name = "Adjust device event state"
        constraints = [
            models.UniqueConstraint(fields=["device", "event_token"], name="emu_adjust_event_state_unique")
        ]

    def __str__(self) -> str:
        return f"device {self.device_id}, event token {self.event_token_id}"


# --- Tenjin -------------------------------------------------------------------------------


class EmuTenjinApp(models.Model):
    bundle_id = models.CharField(max_length=255)
    platform = models.CharField(max_length=20, choices=[(p, p) for p in TENJIN_PLATFORMS])
    lenient = models.BooleanField(default=False, help_text="Accept events with required fields missing.")
    ignored_versions = models.JSONField(
        default=list, blank=True, help_text='app_version patterns to drop, e.g. ["1.0.*", "0.9"].'
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "Tenjin app"
        ordering = ["bundle_id", "platform"]
        constraints = [
            models.UniqueConstraint(fields=["bundle_id", "platform"], name="emu_tenjin_app_unique")
        ]

    def __str__(self) -> str:
        return f"{self.bundle_id} ({self.platform})"


class EmuTenjinKey(models.Model):
    """An SDK key (one app) or an account-level key (several apps, Xsolla's note)."""

    value = models.CharField(max_length=255, unique=True)
    enabled = models.BooleanField(default=True)
    account_level = models.BooleanField(default=False)
    apps = models.ManyToManyField(EmuTenjinApp, related_name="keys")

    class Meta:
        verbose_name = "Tenjin SDK key"

    def __str__(self) -> str:
        return mask(self.value)


class EmuTenjinEventName(models.Model):
    """The distinct custom event names of an app: Tenjin keeps at most 500."""

    app = models.ForeignKey(EmuTenjinApp, on_delete=models.CASCADE, related_name="event_names")
    name = models.CharField(max_length=255)

    class Meta:
        verbose_name = "Tenjin event name"
        constraints = [models.UniqueConstraint(fields=["app", "name"], name="emu_tenjin_event_name_unique")]

    def __str__(self) -> str:
        return self.name


# --- AppsFlyer ---------------------------------------------------------------------------


class EmuAppsFlyerApp(models.Model):
    # As AppsFlyer knows it: id + the App Store id on iOS, the package name on Android.
    app_id = models.CharField(max_length=255, unique=True)
    platform = models.CharField(max_length=20, choices=[(p, p) for p in APPSFLYER_PLATFORMS])
    zero_plan = models.BooleanField(
        default=False, help_text="The account's plan takes no S2S events: 403 Forbidden."
    )

    class Meta:
        verbose_name = "AppsFlyer app"
        ordering = ["app_id"]

    def __str__(self) -> str:
        return self.app_id


class EmuAppsFlyerToken(models.Model):
    """An S2S token of one app (AppsFlyer allows two at a time, for rotation)."""

    app = models.ForeignKey(EmuAppsFlyerApp, on_delete=models.CASCADE, related_name="tokens")
    value = models.CharField(max_length=255, unique=True)

    class Meta:
        verbose_name = "AppsFlyer S2S token"

    def __str__(self) -> str:
        return mask(self.value)


# --- Singular -----------------------------------------------------------------------------


class EmuSingularKey(models.Model):
    """An SDK key: it belongs to the account, so any of its apps may send with it."""

    value = models.CharField(max_length=255, unique=True)
    s2s_enabled = models.BooleanField(default=True, help_text="S2S is an Enterprise feature.")

    class Meta:
        verbose_name = "Singular SDK key"

    def __str__(self) -> str:
        return mask(self.value)


class EmuSingularDevice(models.Model):
    """What Singular remembers of a device: its session (launch) and its latest event time."""

    app = models.CharField(max_length=255, help_text="The bundle id (i) and platform (p).")
    device_id = models.CharField(max_length=255)
    launched_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "Singular device"
        constraints = [
            models.UniqueConstraint(fields=["app", "device_id"], name="emu_singular_device_unique")
        ]

    def __str__(self) -> str:
        return f"{self.device_id} of {self.app}"


# --- What was received --------------------------------------------------------------------


class EmuRecordedEvent(models.Model):
    """An event the emulator accepted: what a dashboard at the MMP would count."""

    class Kind(models.TextChoices):
        EVENT = "event", "Event"
        OPEN = "open", "App open"
        PURCHASE = "purchase", "Purchase"

    provider = models.CharField(max_length=10, choices=Provider.choices)
    # The Adjust app token, or the Tenjin bundle id (with `platform`).
    app_key = models.CharField(max_length=255)
    platform = models.CharField(max_length=20, blank=True)
    # The Adjust event token or the Tenjin event name; empty for opens and purchases.
    event_token = models.CharField(max_length=255, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    device_ids = models.JSONField(default=dict)
    environment = models.CharField(max_length=20, default="production")
    revenue = models.DecimalField(max_digits=24, decimal_places=6, null=True, blank=True)
    currency = models.CharField(max_length=8, blank=True)
    value = models.BigIntegerField(null=True, blank=True, help_text="Tenjin's integer event value.")
    callback_params = models.JSONField(null=True, blank=True)
    partner_params = models.JSONField(null=True, blank=True)
    # Every other parameter received, credentials left out.
    params = models.JSONField(default=dict)
    event_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Set when a fault changed the answer after recording ("500_after_record").
    fault = models.CharField(max_length=20, blank=True)
    # Answered as accepted but not counted, as the MMP does (AppsFlyer's bare iOS app id).
    dropped_silently = models.BooleanField(default=False)
    request_method = models.CharField(max_length=10)
    request_path = models.CharField(max_length=255)
    request_query = models.TextField(blank=True)
    request_body = models.TextField(blank=True)
    # The scheme and a masked credential, e.g. "Bearer ••••b5oe".
    request_auth = models.CharField(max_length=40, blank=True)

    class Meta:
        verbose_name = "recorded event"
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["provider", "app_key"], name="emu_recorded_app")]

    def __str__(self) -> str:
        return f"{self.provider} {self.kind} {self.event_token or ''} at {self.event_at:%Y-%m-%d %H:%M:%S}"


# --- Faults -------------------------------------------------------------------------------

SHARE = [MinValueValidator(0.0), MaxValueValidator(1.0)]


class EmuFaults(models.Model):
    """One row: the failures the emulator injects before its checks."""

    SINGLETON_PK = 1
    SCRIPT_ENTRIES = (
        *("500", "429", "timeout", "timeout_after_record", "500_after_record"),
        *("drop", "drop_after_record", "pass"),
    )

    class Scope(models.TextChoices):
        BOTH = "", "Every MMP"
        ADJUST = "adjust", "Adjust only"
        TENJIN = "tenjin", "Tenjin only"
        APPSFLYER = "appsflyer", "AppsFlyer only"
        SINGULAR = "singular", "Singular only"

    error_500 = models.FloatField(default=0.0, validators=SHARE)
    error_429 = models.FloatField(default=0.0, validators=SHARE)
    timeout = models.FloatField(default=0.0, validators=SHARE)
    # Recorded, then answered too late: a real MMP that was slow, not down (a timeout can duplicate).
    timeout_after_record = models.FloatField(default=0.0, validators=SHARE)
    error_500_after_record = models.FloatField(default=0.0, validators=SHARE)
    # The connection is closed without an answer, before or after the event is recorded.
    dropped = models.FloatField(default=0.0, validators=SHARE)
    dropped_after_record = models.FloatField(default=0.0, validators=SHARE)
    latency_ms = models.PositiveIntegerField(default=0, help_text="Added to every answer.")
    retry_after_seconds = models.PositiveIntegerField(default=1)
    timeout_seconds = models.FloatField(default=30.0, validators=[MinValueValidator(0.0)])
    script = models.JSONField(
        default=list, blank=True, help_text='Consumed one entry per request, e.g. ["500", "pass"].'
    )
    provider = models.CharField(max_length=10, choices=Scope.choices, default=Scope.BOTH, blank=True)
    # Bumped on every script change, so two requests never consume the same entry.
    version = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "faults"
        verbose_name_plural = "faults"

    def __str__(self) -> str:
        return "Emulator faults"

    def save(self, *args, **kwargs):
        self.pk = self.SINGLETON_PK
        super().save(*args, **kwargs)

    def clean(self) -> None:
        shares = [share for _, share in self.shares()]
        if any(not 0 <= share <= 1 for share in shares) or sum(shares) > 1:
            raise ValidationError("Fault shares must each be within 0..1 and add up to at most 1.")
        if not isinstance(self.script, list):
            raise ValidationError({"script": "The script is a list of entries."})
        bad = [entry for entry in self.script if entry not in self.SCRIPT_ENTRIES]
        if bad:
            raise ValidationError(
                {"script": f"Unknown script entries {bad}; use {', '.join(self.SCRIPT_ENTRIES)}."}
            )

    def applies_to(self, provider: str) -> bool:
        return not self.provider or self.provider == provider

    def shares(self) -> list[tuple[str, float]]:
        return [
            ("500", self.error_500),
            ("429", self.error_429),
            ("timeout", self.timeout),
            ("timeout_after_record", self.timeout_after_record),
            ("500_after_record", self.error_500_after_record),
            ("drop", self.dropped),
            ("drop_after_record", self.dropped_after_record),
        ]
