"""The app form: model rules plus the provider's own, with the app key write-only."""

from django import forms

from events.models import App
from events.names import clean_name
from events.providers import PROVIDERS, get_provider

KEY_LABELS = {name: provider.key_label for name, provider in PROVIDERS.items()}


class AppForm(forms.ModelForm):
    # Never rendered back, not even after an error: the browser is the only place it is typed.
    app_key = forms.CharField(
        label="App token / SDK key",
        required=False,
        strip=True,
        max_length=200,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    class Meta:
        model = App
        fields = ["provider", "platform", "name", "bundle_id", "api_version", "default_environment"]
        labels = {"bundle_id": "Bundle id / app id"}
        help_texts = {
            "bundle_id": "AppsFlyer: the app id (id123456789 on iOS, the package name on Android).",
            "api_version": "Singular only: v2 (sdid, the default) or v1 (advertising ids). Others: blank.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.warnings: list[str] = []
        # The instance's key is replaced in _post_clean; keep the stored one to tell a change.
        self.stored_key = self.instance.app_key if self.instance.pk else ""
        field = self.fields["app_key"]
        # The labels per provider, for the few lines of JS that switch the label.
        field.widget.attrs["data-labels"] = "|".join(f"{p}={label}" for p, label in KEY_LABELS.items())
        if self.instance.pk:
            field.label = KEY_LABELS.get(self.instance.provider, field.label)
            field.help_text = f"Stored: {self.instance.app_key_masked}. Leave blank to keep it."
        else:
            field.required = True
            field.help_text = "Typed once, stored encrypted; afterwards only its last 4 characters are shown."

    def clean_name(self) -> str:
        return clean_name(self.cleaned_data["name"])

    @property
    def key_changed(self) -> bool:
        return bool(self.cleaned_data.get("app_key")) and self.cleaned_data["app_key"] != self.stored_key

    def _post_clean(self):
        new_key = self.cleaned_data.get("app_key")
        if new_key:
            self.instance.app_key = new_key
        super()._post_clean()  # the model's own validation
        if "provider" in self.errors or not self.instance.provider:
            return
        errors, self.warnings = get_provider(self.instance).validate_app(self.instance)
        for name, messages in errors.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)
