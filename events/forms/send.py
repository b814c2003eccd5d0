"""The test-event form: the fields follow the app's MMP; the MMP's own validation decides what is sent.

The form only collects input and hands it to the provider as the provider-neutral fields
(`events.providers.base.EventFields`); it does not re-check formats, so the rules live in one
place. The provider's errors come back by field name and are put next to the matching input.
"""

import json
import re
from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils import timezone

from events.models import App, Environment, EventToken, Platform, Provider
from events.providers import FieldSpec, get_provider
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


def _text(
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


def _choice(label: str, choices: list[tuple[str, str]]) -> forms.ChoiceField:
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


class AdjustSendForm(SendForm):
    fields_template = "events/console/_adjust_fields.html"
    wire_fields = (
        *("revenue", "currency", "created_at", "ip_address", "user_agent"),
        *("os_name", "os_version", "device_name", "device_type", "att_status", "tracking_enabled"),
    )
    # Row groups: name -> (the inputs of a row, how many rows at least).
    ROWS = {"id": (("type", "value"), 2), "callback": (("key", "value"), 5), "partner": (("key", "value"), 5)}

    revenue = _text(example="4.99", inputmode="decimal")
    currency = forms.ChoiceField(required=False, choices=currency_choices(), label="Currency (ISO 4217)")
    created_at = _text(
        "Created at",
        help_text="When the event happened: unix seconds or ISO 8601 with a zone, within the last "
        "58 days. Set to the time this form was opened.",
    )
    ip_address = _text("IPv4 address", example="203.0.113.7")
    user_agent = _text(example="Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X)")
    os_name = _text("OS name", example="ios")
    os_version = _text("OS version", example="17.5")
    device_name = _text(example="iPhone15,2")
    device_type = _text(example="phone")
    att_status = _choice(
        "ATT status",
        [
            ("", "not sent"),
            ("0", "0 not determined"),
            ("1", "1 restricted"),
            ("2", "2 denied"),
            ("3", "3 authorized"),
        ],
    )
    tracking_enabled = _choice("Tracking enabled", [("", "not sent"), ("1", "1 yes"), ("0", "0 no")])

    def __init__(self, app: App, *args, **kwargs):
        super().__init__(app, *args, **kwargs)
        self.id_types = {t.name: t for t in get_provider(app).device_id_fields(app)}
        hints = {
            t.name: {"data-rule": t.help_text, "data-example": t.example} for t in self.id_types.values()
        }
        choices = [(name, name) for name in self.id_types]
        source = self.data if self.is_bound else self.initial
        # Rows past the cap are refused in clean(), never dropped: the event would go out without them.
        self.rows_given: dict[str, int] = {}
        for group, (parts, minimum) in self.ROWS.items():
            self.rows_given[group] = _row_count(source, group, minimum)
            for i in range(min(self.rows_given[group], MAX_ROWS)):
                if group == "id":
                    default = choices[min(i, len(choices) - 1)][0] if choices else ""
                    self.fields[f"id_type_{i}"] = forms.ChoiceField(
                        label="Device id type", choices=choices, initial=default, widget=HintedSelect(hints)
                    )
                    example = hints.get(default, {}).get("data-example", "")
                    self.fields[f"id_value_{i}"] = _text("Device id", example=example, required=i == 0)
                else:
                    for part in parts:
                        self.fields[f"{group}_{part}_{i}"] = _text(part.capitalize())
        if not self.is_bound and "created_at" not in self.initial:
            self.fields["created_at"].initial = adjust_time_now()

    def rows(self, group: str) -> list[list[forms.BoundField]]:
        parts, _ = self.ROWS[group]
        count = sum(1 for name in self.fields if name.startswith(f"{group}_{parts[0]}_"))
        return [[self[f"{group}_{part}_{i}"] for part in parts] for i in range(count)]

    @property
    def callback_rows(self) -> list[list[forms.BoundField]]:
        return self.rows("callback")

    @property
    def partner_rows(self) -> list[list[forms.BoundField]]:
        return self.rows("partner")

    @property
    def partner_given(self) -> bool:
        """Partner parameters are rarer: their rows stay folded unless some are filled in."""
        return any(field.value() for row in self.partner_rows for field in row)

    def id_rows(self) -> list[dict[str, Any]]:
        """Each device id row with the expected format of its chosen type."""
        rows = []
        for type_field, value_field in self.rows("id"):
            chosen = self.id_types.get(str(type_field.value() or ""))
            rows.append({"type": type_field, "value": value_field, "id_type": chosen})
        return rows

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        self.params: dict[str, dict[str, str]] = {}
        for group, given in self.rows_given.items():
            if given > MAX_ROWS:
                block = "device_ids" if group == "id" else f"{group}_params"
                self.block_errors.setdefault(block, []).append(
                    f"This form sends at most {MAX_ROWS} {group} rows; {given} were given. Send larger "
                    "events through the API or a bulk CSV."
                )
        for group in ("callback", "partner"):
            pairs: dict[str, str] = {}
            problems = self.block_errors.setdefault(f"{group}_params", [])
            for i in range(len(self.rows(group))):
                key, value = data.get(f"{group}_key_{i}", ""), data.get(f"{group}_value_{i}", "")
                if value and not key:
                    problems.append(f"Row {i + 1} has a value but no key.")
                elif key in pairs:
                    problems.append(f"The key '{key}' is given twice; keep one.")
                elif key:
                    pairs[key] = value
            self.params[f"{group}_params"] = pairs
        given = [data.get(f"id_type_{i}") for i in range(len(self.rows("id"))) if data.get(f"id_value_{i}")]
        for id_type in sorted({t for t in given if given.count(t) > 1}):
            self.block_errors.setdefault("device_ids", []).append(f"{id_type} is given twice; keep one.")
        self.block_errors = {name: msgs for name, msgs in self.block_errors.items() if msgs}
        return data

    def to_fields(self) -> dict[str, Any]:
        fields = super().to_fields()
        data = self.cleaned_data
        fields["device_ids"] = {
            data.get(f"id_type_{i}"): value
            for i in range(len(self.rows("id")))
            if (value := data.get(f"id_value_{i}"))
        }
        fields.update(self.params)
        return fields

    def error_target(self, key: str) -> str | None:
        if key in self.id_types:
            for i, (type_field, _) in enumerate(self.rows("id")):
                if type_field.value() == key:
                    return f"id_value_{i}"
            return "device_ids"
        return key

    @classmethod
    def initial_from(cls, fields: Mapping[str, Any]) -> dict[str, Any]:
        initial = {k: v for k, v in fields.items() if k not in ("device_ids", *BLOCKS)}
        for i, (name, value) in enumerate((fields.get("device_ids") or {}).items()):
            initial.update({f"id_type_{i}": name, f"id_value_{i}": value})
        for group in ("callback", "partner"):
            for i, (key, value) in enumerate((fields.get(f"{group}_params") or {}).items()):
                initial.update({f"{group}_key_{i}": key, f"{group}_value_{i}": value})
        return initial


class TenjinSendForm(SendForm):
    fields_template = "events/console/_tenjin_fields.html"

    advertising_id = _text("Advertising id (IDFA / GAID)", help_text="A UUID.")
    developer_device_id = _text("Developer device id (IDFV)", help_text="The IDFV; required on iOS.")
    analytics_installation_id = _text(
        "Installation id", help_text="The UUID you keep for this install and send with every event."
    )
    os_version = _text(
        "OS version", example="33", help_text="Android's SDK level (33) or iOS's version (17.5)."
    )
    app_version = _text(example="1.0.3")
    ip_address = _text("IP address", example="203.0.113.7")
    country = _text(example="US")
    limit_ad_tracking = _choice("Limit ad tracking", [("", "not sent"), ("0", "0 no"), ("1", "1 yes")])
    value = _text(example="50", help_text="A whole number; Tenjin drops other values.", inputmode="numeric")
    product_id = _text("Product id", example="gems_100")
    quantity = _text(example="1", inputmode="numeric")
    price = _text("Unit price (gross)", example="4.99", inputmode="decimal")
    currency = forms.ChoiceField(required=False, choices=currency_choices(), label="Currency (ISO 4217)")
    receipt = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    signature = _text()

    def __init__(self, app: App, *args, **kwargs):
        super().__init__(app, *args, **kwargs)
        self.device_fields = [spec.name for spec in get_provider(app).device_id_fields(app)]
        for spec in get_provider(app).device_id_fields(app):
            self.fields[spec.name].widget.attrs["placeholder"] = spec.example
        # Marked as the provider requires them (§2.3); it says so itself when one is missing.
        ios = app.platform == Platform.IOS
        for name, required in (
            ("advertising_id", not ios),
            ("developer_device_id", ios),
            ("analytics_installation_id", True),
            ("os_version", True),
            *((name, True) for name in ("product_id", "quantity", "price")),
        ):
            self.fields[name].required = required

    def to_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        names = [
            spec.name for spec in get_provider(self.app).event_fields(self.app, data["event_token"].kind)
        ]
        fields = {"environment": data.get("environment", ""), **{n: data.get(n, "") for n in names}}
        fields["device_ids"] = {n: data[n] for n in self.device_fields if data.get(n)}
        return fields

    @classmethod
    def initial_from(cls, fields: Mapping[str, Any]) -> dict[str, Any]:
        initial = {k: v for k, v in fields.items() if k != "device_ids"}
        initial.update(fields.get("device_ids") or {})
        return initial


class DescribedSendForm(SendForm):
    """Any MMP's inputs as its provider describes them (device_id_fields, event_fields): adding an
    MMP needs no form of its own unless it wants a layout of its own, as Adjust and Tenjin do."""

    fields_template = "events/console/_described_fields.html"

    def __init__(self, app: App, *args, **kwargs):
        super().__init__(app, *args, **kwargs)
        provider = get_provider(app)
        self.device_specs = provider.device_id_fields(app)
        self.event_specs = provider.event_fields(app)
        self.wire_fields = tuple(spec.name for spec in self.event_specs)
        for spec in (*self.device_specs, *self.event_specs):
            self.fields[spec.name] = _described_field(spec)

    @property
    def device_inputs(self) -> list[forms.BoundField]:
        return [self[spec.name] for spec in self.device_specs]

    @property
    def event_inputs(self) -> list[forms.BoundField]:
        return [self[spec.name] for spec in self.event_specs]

    def to_fields(self) -> dict[str, Any]:
        fields = super().to_fields()
        fields["device_ids"] = {s.name: v for s in self.device_specs if (v := self.cleaned_data.get(s.name))}
        return fields

    def error_target(self, key: str) -> str | None:
        return "device_ids" if key == "device_ids" else key

    @classmethod
    def initial_from(cls, fields: Mapping[str, Any]) -> dict[str, Any]:
        initial = {k: v for k, v in fields.items() if k != "device_ids"}
        initial.update(fields.get("device_ids") or {})
        # Objects (an event value, attributes) go back into their input as JSON text.
        return {k: json.dumps(v) if isinstance(v, dict) else v for k, v in initial.items()}


def _described_field(spec: FieldSpec) -> forms.Field:
    if spec.name == "currency":
        return forms.ChoiceField(required=False, choices=currency_choices(), label=spec.label)
    if spec.choices:
        return forms.ChoiceField(
            required=False, choices=spec.choices, label=spec.label, help_text=spec.help_text
        )
    return _text(spec.label, example=spec.example, help_text=spec.help_text, required=spec.required)


# The MMPs with a layout of their own; the others get DescribedSendForm.
FORMS: dict[str, type[SendForm]] = {Provider.ADJUST: AdjustSendForm, Provider.TENJIN: TenjinSendForm}


def form_class(app: App) -> type[SendForm]:
    return FORMS.get(app.provider, DescribedSendForm)


def send_form(app: App, data=None, initial: Mapping[str, Any] | None = None) -> SendForm:
    return form_class(app)(app, data=data, initial=dict(initial or {}))


def _row_count(source: Mapping[str, Any], group: str, minimum: int) -> int:
    """Rows enough for every index the data names (JS may add rows), and at least `minimum`."""
    # ASCII digits, and few of them: int() refuses "²" and numbers of over 4,300 digits.
    pattern = re.compile(rf"{group}_[a-z]+_([0-9]{{1,9}})$")
    indexes = [int(m[1]) for key in source if (m := pattern.match(key))]
    return max(minimum, max(indexes, default=-1) + 1)
