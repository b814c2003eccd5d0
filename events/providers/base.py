"""The contract every MMP implements: validate an event, build its request, classify the answer.

Views, commands and jobs talk only to this contract (through `get_provider`); everything that
differs between MMPs lives in the provider's own module.
"""

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from events.choices import EventKind, Outcome
from events.models import App, EventToken
from events.transport import HttpAnswer, OutboundRequest, TransportError, allow_mmp_url_setting

# The provider-neutral event, as a form, the command line or the API hands it over:
#   device_ids       {"idfa": "...", ...} (Tenjin: advertising_id, developer_device_id,
#                    analytics_installation_id)
#   callback_params, partner_params   a dict of strings, or that dict as a JSON string
#   revenue, currency, created_at, environment, ip_address, user_agent
#   and provider-specific fields by their wire names (os_version, value, product_id, ...).
EventFields = Mapping[str, Any]


class EventInvalid(Exception):
    """The event breaks the MMP's documented rules; `errors` maps a field name to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class ValidEvent:
    """What validation keeps: the wire parameters (no secrets) and what the log indexes."""

    params: dict[str, str]
    environment: str
    device_id_type: str
    device_id: str
    # When the event happened, if the MMP takes an event time (Adjust); for the order guard.
    event_time: datetime | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class SkanValues:
    """SKAdNetwork values an MMP's answer carried for an iOS app (Adjust's skadn_* keys): the fine
    conversion value (0-63), the coarse one (low, medium, high) and whether to lock the window.
    Each may be missing; the backend passes them on to the app's updatePostbackConversionValue."""

    fine_value: int | None = None
    coarse_value: str = ""
    lock_window: bool | None = None

    def __bool__(self) -> bool:
        return self.fine_value is not None or bool(self.coarse_value) or self.lock_window is not None


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    # The MMP's own words (e.g. "Device not found"), and what they mean for a marketer.
    mmp_message: str
    explanation: str
    # The MMP may have recorded the event although the answer says otherwise.
    ambiguous: bool = False
    # Seconds the MMP asked us to wait (Retry-After on 429), if it said.
    retry_after: float | None = None
    # SKAdNetwork values in the answer, for the MMPs that send them (None: none in this answer).
    skan: SkanValues | None = None


@dataclass(frozen=True)
class FieldSpec:
    """One input an MMP takes, described for the forms and CSV templates that ask for it."""

    name: str
    label: str
    example: str = ""
    help_text: str = ""
    # Marked as required in forms; whether it may be empty is still validate()'s decision.
    required: bool = False
    # Fixed choices (value, label); empty for free text.
    choices: tuple[tuple[str, str], ...] = ()
    # The event kinds it belongs to; empty for every kind.
    kinds: tuple[str, ...] = ()


@dataclass(frozen=True)
class AnswerRule:
    """One row of an MMP's answer table (events/providers/answers.py reads them)."""

    status: int | range
    # Matched case-insensitively against the start of the MMP's message; None matches any message.
    prefix: str | None
    outcome: Outcome
    # May name {status} and {location} (the redirect target).
    explanation: str
    # The MMP may have recorded the event although the answer says otherwise.
    ambiguous: bool = False
    # Matches only the MMP's documented success answer, as the provider recognised it.
    documented_success: bool = False

    def render(self, *, status: int, location: str) -> str:
        # Not str.format: explanations quote JSON such as {"status": "OK"}.
        return self.explanation.replace("{status}", str(status)).replace("{location}", location)

    def matches(self, status: int, message: str, *, success: bool = False) -> bool:
        status_matches = status == self.status if isinstance(self.status, int) else status in self.status
        if not status_matches or (self.documented_success and not success):
            return False
        return self.prefix is None or message.casefold().startswith(self.prefix.casefold())


class MMPProvider(ABC):
    name: str
    label: str
    # What the app's secret is called at this MMP (the App.app_key field), and its app id
    # (App.bundle_id), for forms and pages.
    key_label: str = "App key"
    # What an event token is at this MMP: a token it issues, or the event's own name.
    token_label: str = "Event name"
    # Whether requests carry S2S security tokens kept apart from the app key (Adjust's).
    takes_security_tokens: bool = False
    app_id_label: str = "Bundle id"
    # Whether the MMP keeps test data apart (Adjust's environment=sandbox); without one, every
    # event is real data and only production is offered.
    has_sandbox: bool = False
    # The event kinds its event tokens may have, and the base URL setting its requests go to.
    event_kinds: tuple[str, ...] = (EventKind.EVENT,)
    base_url_setting: str = ""
    # Events a second the MMP publishes as its limit for one app (None: it publishes none). An
    # app's own max_events_per_second, when set, wins.
    published_rate_per_second: float | None = None
    # The MMP refuses events older than this, or earlier than one it accepted for the same device
    # and event token (the order guard asks; see event_time_of).
    max_event_age: timedelta | None = None
    rejects_earlier_events: bool = False
    # Its answers as a table, first matching row wins (AnswerRule, above).
    answers: tuple[AnswerRule, ...] = ()
    # Every concrete provider class, so the base can say which MMPs take an event kind without
    # importing the registry above it (events/providers/__init__.py).
    known_classes: ClassVar[list[type["MMPProvider"]]] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        MMPProvider.known_classes.append(cls)
        if cls.base_url_setting:
            allow_mmp_url_setting(cls.base_url_setting)

    def validate_event_token(self, app: App, token: str, kind: str) -> list[str]:
        """What is wrong with an event token (or event name) for this MMP, checked when it is
        created, imported from CSV or from a config file. The base refuses what no MMP takes; a
        provider adds the shape of its own tokens."""
        if kind not in self.event_kinds:
            takers = " and ".join(p.label for p in MMPProvider.known_classes if kind in p.event_kinds)
            return [f"Only {takers or 'no'} apps have {kind} events; for {self.label}, use kind 'event'."]
        if token != token.strip() or not token.isprintable():
            return ["It has spaces at its ends or invisible characters: check what was pasted."]
        return []

    def max_event_names(self, app: App) -> int | None:
        """How many distinct event names the MMP keeps per app; None for no limit."""
        return None

    def device_id_fields(self, app: App) -> list[FieldSpec]:
        """The device ids as inputs, preferred first; by default named after device_id_types."""
        return [FieldSpec(name, name) for name in self.device_id_types(app)]

    def event_fields(self, app: App, kind: str | None = None) -> list[FieldSpec]:
        """The inputs besides device ids and environment, for events of `kind` (None: any kind)."""
        return []

    def event_time_of(self, params: Mapping[str, str]) -> datetime | None:
        """When a stored event happened, if the MMP takes an event time the order guard checks."""
        return None

    def order_key(self, app: App, event_token: EventToken, valid: ValidEvent) -> str:
        """Events with the same key go out one at a time, oldest event first ('' for none).

        By default one device's events of an app, whatever the event: cheap (different devices
        still go out in parallel), and no MMP punishes it, while some punish the opposite.
        """
        return f"{app.pk}:{valid.device_id}" if valid.device_id else ""

    @abstractmethod
    def validate(
        self, app: App, event_token: EventToken, fields: EventFields, *, now: datetime | None = None
    ) -> ValidEvent:
        """Check the event against the MMP's rules; raise EventInvalid with errors per field."""

    @abstractmethod
    def device_id_types(self, app: App) -> list[str]:
        """The device id names this app's events may carry, preferred first (forms, CSV columns)."""

    @abstractmethod
    def validate_app(self, app: App) -> tuple[dict[str, list[str]], list[str]]:
        """The app's own settings for this MMP: (errors per App field, warnings)."""

    @abstractmethod
    def to_fields(self, params: Mapping[str, str]) -> dict[str, Any]:
        """Stored wire parameters back to the input fields validate() takes (to clone an event)."""

    @abstractmethod
    def build(self, app: App, event_token: EventToken, params: Mapping[str, str]) -> OutboundRequest:
        """The exact HTTP request, secrets included (and listed in `secrets` for masking)."""

    @abstractmethod
    def classify(self, answer: HttpAnswer) -> Verdict:
        """Delivered, retry later or permanent, from the MMP's HTTP answer."""

    @abstractmethod
    def classify_error(self, error: TransportError) -> Verdict:
        """The same, when no answer came (timeouts, refused or dropped connections, ...)."""
