"""The contract every MMP implements: validate an event, build its request, classify the answer.

Views, commands and jobs talk only to this contract (through `get_provider`); everything that
differs between MMPs lives in the provider's own module.
"""

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from events.models import App, EventKind, EventToken, Outcome
from events.transport import HttpAnswer, OutboundRequest, TransportError

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
class Verdict:
    outcome: Outcome
    # The MMP's own words (e.g. "Device not found"), and what they mean for a marketer.
    mmp_message: str
    explanation: str
    # The MMP may have recorded the event although the answer says otherwise.
    ambiguous: bool = False
    # Seconds the MMP asked us to wait (Retry-After on 429), if it said.
    retry_after: float | None = None


class MMPProvider(ABC):
    name: str
    label: str
    # The kinds of event the MMP has (Tenjin also takes purchases), and the most distinct event
    # names it keeps per app (None: no limit documented).
    event_kinds: tuple[str, ...] = (EventKind.EVENT,)
    max_event_names: int | None = None

    def event_token_problem(self, token: str, kind: str) -> str | None:
        """Why the MMP would not take this event token (or name) of this kind, or None. Asked when
        a token is created, imported from CSV or from a config file. The base refuses what no MMP
        takes; a provider adds the shape of its own tokens."""
        if kind not in self.event_kinds:
            return f"{self.label} apps have no {kind} events; use the kind 'event'."
        if token != token.strip() or not token.isprintable():
            return "It has spaces at its ends or invisible characters: check what was pasted."
        return None

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
