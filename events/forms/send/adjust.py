"""Adjust's test-event form: its own layout (device ids by platform, callback and partner parameters)."""

from collections.abc import Mapping
from typing import Any

from django import forms

from events.forms.send.base import (
    BLOCKS,
    MAX_ROWS,
    HintedSelect,
    SendForm,
    adjust_time_now,
    choice_field,
    currency_choices,
    row_count,
    text_input,
)
from events.models import App
from events.providers import get_provider


class AdjustSendForm(SendForm):
    fields_template = "events/console/_adjust_fields.html"
    wire_fields = (
        *("revenue", "currency", "created_at", "ip_address", "user_agent"),
        *("os_name", "os_version", "device_name", "device_type", "att_status", "tracking_enabled"),
    )
    # Row groups: name -> (the inputs of a row, how many rows at least).
    ROWS = {"id": (("type", "value"), 2), "callback": (("key", "value"), 5), "partner": (("key", "value"), 5)}

    revenue = text_input(example="4.99", inputmode="decimal")
    currency = forms.ChoiceField(required=False, choices=currency_choices(), label="Currency (ISO 4217)")
    created_at = text_input(
        "Created at",
        help_text="When the event happened: unix seconds or ISO 8601 with a zone, within the last "
        "58 days. Set to the time this form was opened.",
    )
    ip_address = text_input("IPv4 address", example="203.0.113.7")
    user_agent = text_input(example="Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X)")
    os_name = text_input("OS name", example="ios")
    os_version = text_input("OS version", example="17.5")
    device_name = text_input(example="iPhone15,2")
    device_type = text_input(example="phone")
    att_status = choice_field(
        "ATT status",
        [
            ("", "not sent"),
            ("0", "0 not determined"),
            ("1", "1 restricted"),
            ("2", "2 denied"),
            ("3", "3 authorized"),
        ],
    )
    tracking_enabled = choice_field("Tracking enabled", [("", "not sent"), ("1", "1 yes"), ("0", "0 no")])

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
            self.rows_given[group] = row_count(source, group, minimum)
            for i in range(min(self.rows_given[group], MAX_ROWS)):
                if group == "id":
                    default = choices[min(i, len(choices) - 1)][0] if choices else ""
                    self.fields[f"id_type_{i}"] = forms.ChoiceField(
                        label="Device id type", choices=choices, initial=default, widget=HintedSelect(hints)
                    )
                    example = hints.get(default, {}).get("data-example", "")
                    self.fields[f"id_value_{i}"] = text_input("Device id", example=example, required=i == 0)
                else:
                    for part in parts:
                        self.fields[f"{group}_{part}_{i}"] = text_input(part.capitalize())
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
