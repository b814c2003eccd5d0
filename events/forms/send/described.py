"""Any other MMP's test-event form, built from what its provider describes."""

import json
from collections.abc import Mapping
from typing import Any

from django import forms

from events.forms.send.base import (
    SendForm,
    currency_choices,
    text_input,
)
from events.models import App
from events.providers import FieldSpec, get_provider


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
    return text_input(spec.label, example=spec.example, help_text=spec.help_text, required=spec.required)
