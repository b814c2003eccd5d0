"""Alert forms: an app's rules and canary, and a channel (its URL and signing secret write-only)."""

from django import forms

from events import transport
from events.models import App, EventToken
from events.monitoring.models import AlertChannel, AlertRules, Canary, ChannelKind, email_addresses
from events.names import clean_name
from events.providers import EventInvalid, get_provider

RULE_FIELDS = [
    *("success_rate_enabled", "success_rate_threshold", "success_rate_window_minutes"),
    *("success_rate_min_deliveries", "permanent_failures_enabled", "permanent_failures_in_row"),
    *("auth_refused_enabled", "waiting_enabled", "waiting_minutes"),
]


class AlertRulesForm(forms.ModelForm):
    class Meta:
        model = AlertRules
        fields = RULE_FIELDS


class CanaryForm(forms.ModelForm):
    device_id_type = forms.ChoiceField(label="Test device id type", required=False)

    class Meta:
        model = Canary
        fields = ["enabled", "every_minutes", "event_token", "device_id_type", "device_id"]
        help_texts = {"device_id": "A test device of yours: the canary's events are real events to the MMP."}

    def __init__(self, *args, app: App, **kwargs):
        super().__init__(*args, **kwargs)
        self.app = app
        self.fields["event_token"].queryset = EventToken.objects.filter(app=app, archived_at=None)
        types = get_provider(app).device_id_types(app)
        self.fields["device_id_type"].choices = [("", "choose"), *((t, t) for t in types)]

    def clean(self):
        data = super().clean()
        if not data.get("enabled") or self.errors:
            return data
        token, id_type, device_id = data.get("event_token"), data.get("device_id_type"), data.get("device_id")
        if token is None:
            self.add_error("event_token", "Choose the event the canary sends.")
        if not id_type or not device_id:
            self.add_error("device_id", "Give the test device's id and its type.")
        if self.errors:
            return data
        provider = get_provider(self.app)
        environment = "sandbox" if provider.has_sandbox else "production"
        fields = {"device_ids": {id_type: device_id}, "environment": environment}
        try:
            provider.validate(self.app, token, fields)
        except EventInvalid as exc:
            raise forms.ValidationError(f"The MMP would refuse this canary event: {exc}") from exc
        return data


class AlertChannelForm(forms.ModelForm):
    # Write-only, like the app keys: a Slack URL and a signing secret are credentials.
    target = forms.CharField(
        label="Addresses or URL",
        max_length=2000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="Email: addresses separated by commas. Webhooks: the https URL to post to.",
    )
    signing_secret = forms.CharField(
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Signed JSON webhook only: the secret the receiver checks the signature with "
        "(Standard Webhooks; whsec_... or any text of 24 characters or more).",
    )

    class Meta:
        model = AlertChannel
        fields = ["name", "kind", "target", "signing_secret"]

    def clean_name(self) -> str:
        return clean_name(self.cleaned_data["name"])

    def clean(self):
        data = super().clean()
        kind, target, secret = data.get("kind"), data.get("target", ""), data.get("signing_secret", "")
        if not kind or not target:
            return data
        if kind == ChannelKind.EMAIL:
            addresses = email_addresses(target)
            validator = forms.EmailField()
            for address in addresses:
                try:
                    validator.clean(address)
                except forms.ValidationError:
                    self.add_error("target", f"'{address}' is not an email address.")
            if not addresses:
                self.add_error("target", "Give at least one email address.")
            data["target"] = ", ".join(addresses)
        else:
            try:
                transport.check_webhook_url(target)
            except transport.TransportError as exc:
                self.add_error("target", exc.message)
        if kind == ChannelKind.WEBHOOK and len(secret) < 24:
            self.add_error("signing_secret", "A signed webhook needs a secret of 24 characters or more.")
        if kind != ChannelKind.WEBHOOK and secret:
            self.add_error("signing_secret", "Only a signed JSON webhook takes a signing secret.")
        return data
