"""What every MMP's test-event form shares: the event, the environment and its confirmation, and
the inputs the MMPs' own forms are built of."""

import re
from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils import timezone

from events.models import App, Environment, EventToken
from events.providers import get_provider
from events.providers.common import CURRENCY_CODES

# Rows per group the form builds fields for: a crafted POST must not create thousands of fields.
MAX_ROWS = 50
COMMON_CURRENCIES = ("USD", "EUR", "GBP", "JPY", "CNY", "INR", "BRL", "KRW", "CAD", "AUD")
# Errors about a group of inputs (the device id rows, the parameter rows), shown above the group.
BLOCKS = ("device_ids", "callback_params", "partner_params")


def currency_choices() -> list[tuple[str, Any]]:
    rest = sorted(CURRENCY_CODES - set(COMMON_CURRENCIES))
    return [
        ("", "— none —"),
        ("Common", [(c, c) for c in COMMON_CURRENCIES]),
        ("All ISO 4217", [(c, c) for c in rest]),
    ]


def adjust_time_now() -> str:
    """Now, in the layout Adjust documents (2017-01-02T15:04:05.000+0000)."""
    return timezone.now().strftime("%Y-%m-%dT%H:%M:%S.000+0000")


class HintedSelect(forms.Select):
    """A select whose options carry data-* attributes (an id type's format, an event's kind)."""

    def __init__(self, hints: Mapping[str, Mapping[str, str]], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.hints = hints

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        option["attrs"].update(self.hints.get(str(value), {}))
        return option


class InputField(forms.CharField):
    """A text input whose `required` only marks it as such: whether it may be left empty is the
    provider's decision, which it explains in its own words (an empty value reaches it)."""

    def validate(self, value: str) -> None:
        pass


def text_input(
    label: str = "", *, example: str = "", help_text: str = "", required: bool = False, **attrs: str
) -> InputField:
    widget_attrs = {"placeholder": example, **attrs} if example else attrs
    return InputField(
        label=label or None,
        required=required,
        strip=True,
        help_text=help_text,
        widget=forms.TextInput(attrs=widget_attrs),
    )


def choice_field(label: str, choices: list[tuple[str, str]]) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, required=False, choices=choices)


class SendForm(forms.Form):
    """What every MMP shares: the event, the environment and its confirmation."""

    fields_template = ""
    # Fields handed to the provider as they are, by the MMP's own parameter names.
    wire_fields: tuple[str, ...] = ()

    # No event is chosen for the user: sending the alphabetically first by accident is worse than
    # being asked to choose.
    event_token = forms.ModelChoiceField(
        queryset=EventToken.objects.none(),
        label="Event",
        empty_label="Choose an event…",
        error_messages={"required": "Choose the event to send."},
    )
    environment = forms.ChoiceField(choices=Environment.choices)
    confirm_production = forms.BooleanField(
        required=False, label="Yes, send this to production: it counts as real data."
    )
    # Sending the same form twice (a double click, a reload) returns the first delivery.
    idempotency_key = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)

    def __init__(self, app: App, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.app = app
        self.block_errors: dict[str, list[str]] = {}
        events = app.event_tokens.filter(archived_at__isnull=True)
        field = self.fields["event_token"]
        field.queryset = events
        field.widget = HintedSelect({str(e.pk): {"data-kind": e.kind} for e in events})
        field.widget.choices = field.choices  # the queryset gave its choices to the widget replaced
        self.fields["environment"].initial = app.default_environment
        if not get_provider(app).has_sandbox:
            # Every event of an MMP without a sandbox is real data: no choice to offer.
            self.fields["environment"].choices = [(Environment.PRODUCTION, Environment.PRODUCTION.label)]

    def selected_environment(self) -> str:
        value = self.data.get("environment") if self.is_bound else self.initial.get("environment")
        return value or self["environment"].initial or str(self.app.default_environment)

    def confirmed(self) -> bool:
        """Production needs the box ticked; call after is_valid(), before sending."""
        if self.cleaned_data.get("environment") == Environment.PRODUCTION and not self.cleaned_data.get(
            "confirm_production"
        ):
            self.add_error(
                "confirm_production",
                "This event goes to production, where it counts as real data: tick the box to confirm.",
            )
            return False
        return True

    def to_fields(self) -> dict[str, Any]:
        """The cleaned input as the provider's validate() takes it."""
        data = self.cleaned_data
        return {name: data.get(name, "") for name in ("environment", *self.wire_fields)}

    def apply_errors(self, errors: Mapping[str, list[str]]) -> None:
        """The provider's errors next to their inputs; the rest above the form."""
        for key, messages in errors.items():
            target = self.error_target(key)
            if target in BLOCKS:
                self.block_errors.setdefault(target, []).extend(messages)
            elif target in self.fields:
                self.add_error(target, list(messages))
            else:  # "__all__", "app", a field the form has no input for
                self.add_error(None, list(messages))

    def error_target(self, key: str) -> str | None:
        return key


def row_count(source: Mapping[str, Any], group: str, minimum: int) -> int:
    """Rows enough for every index the data names (JS may add rows), and at least `minimum`."""
    # ASCII digits, and few of them: int() refuses "²" and numbers of over 4,300 digits.
    pattern = re.compile(rf"{group}_[a-z]+_([0-9]{{1,9}})$")
    indexes = [int(m[1]) for key in source if (m := pattern.match(key))]
    return max(minimum, max(indexes, default=-1) + 1)
