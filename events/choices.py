"""The choices the models store and the layers above them share (providers, callbacks, monitoring).

They live beneath events/models.py so that the providers and the capabilities' own models can name
a status or an outcome without importing the models, which would tie them in a circle.
`from events.models import Status` keeps working: the models re-export them.
"""

from django.db import models


class Provider(models.TextChoices):
    ADJUST = "adjust", "Adjust"
    TENJIN = "tenjin", "Tenjin"
    APPSFLYER = "appsflyer", "AppsFlyer"
    SINGULAR = "singular", "Singular"


class Platform(models.TextChoices):
    IOS = "ios", "iOS"
    ANDROID = "android", "Android (Google Play)"
    AMAZON = "amazon", "Amazon Fire OS"
    ANDROID_OTHER = "android_other", "Android, other stores"
    WINDOWS = "windows", "Windows"
    WEB = "web", "Web"


class Environment(models.TextChoices):
    SANDBOX = "sandbox", "Sandbox"
    PRODUCTION = "production", "Production"


class EventKind(models.TextChoices):
    EVENT = "event", "Event"
    PURCHASE = "purchase", "Purchase (Tenjin /v0/purchase)"


class Source(models.TextChoices):
    FORM = "form", "Test form"
    CLI = "cli", "Command line"
    API = "api", "API"
    BULK = "bulk", "Bulk upload"
    # The app's canary (events/monitoring/canary.py): left out of the overview's figures and of
    # the alert rules that judge real traffic.
    CANARY = "canary", "Canary"


class Status(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    RETRYING = "retrying", "Retrying"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    DEAD = "dead", "Dead (gave up retrying)"


FINAL_STATUSES = (Status.DELIVERED, Status.FAILED, Status.DEAD)
# On its way: a delivery in one of these holds back the newer ones of its order key.
PENDING_STATUSES = (Status.QUEUED, Status.SENDING, Status.RETRYING)


class Outcome(models.TextChoices):
    DELIVERED = "delivered", "Delivered"
    RETRY = "retry", "Retry later"
    PERMANENT = "permanent", "Permanent failure"
