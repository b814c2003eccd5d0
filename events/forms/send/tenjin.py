"""Tenjin's test-event form: its own layout (events and purchases)."""

from collections.abc import Mapping
from typing import Any

from django import forms

from events.forms.send.base import SendForm, choice_field, currency_choices, text_input
from events.models import App, Platform
from events.providers import get_provider


class TenjinSendForm(SendForm):
    fields_template = "events/console/_tenjin_fields.html"

    advertising_id = text_input("Advertising id (IDFA / GAID)", help_text="A UUID.")
    developer_device_id = text_input("Developer device id (IDFV)", help_text="The IDFV; required on iOS.")
    analytics_installation_id = text_input(
        "Installation id", help_text="The UUID you keep for this install and send with every event."
    )
    os_version = text_input(
        "OS version", example="33", help_text="Android's SDK level (33) or iOS's version (17.5)."
    )
    app_version = text_input(example="1.0.3")
    ip_address = text_input("IP address", example="203.0.113.7")
    country = text_input(example="US")
    limit_ad_tracking = choice_field("Limit ad tracking", [("", "not sent"), ("0", "0 no"), ("1", "1 yes")])
    value = text_input(
        example="50", help_text="A whole number; Tenjin drops other values.", inputmode="numeric"
    )
    product_id = text_input("Product id", example="gems_100")
    quantity = text_input(example="1", inputmode="numeric")
    price = text_input("Unit price (gross)", example="4.99", inputmode="decimal")
    currency = forms.ChoiceField(required=False, choices=currency_choices(), label="Currency (ISO 4217)")
    receipt = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    signature = text_input()

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
