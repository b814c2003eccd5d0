"""Event token and security token forms; both belong to one app, given by the view."""

from django import forms

from events.models import App, EventKind, EventToken, SecurityToken
from events.providers import get_provider


def event_names_left(app: App) -> int | None:
    """How many more event names the app's MMP keeps (archived ones were sent, so they count);
    None for no limit."""
    limit = get_provider(app).max_event_names
    if limit is None:
        return None
    return limit - app.event_tokens.filter(kind=EventKind.EVENT).count()


def too_many_names(app: App) -> str:
    provider = get_provider(app)
    return (
        f"{provider.label} keeps at most {provider.max_event_names} event names per app and drops any "
        "beyond; reuse an existing name."
    )


class EventTokenForm(forms.ModelForm):
    class Meta:
        model = EventToken
        fields = ["name", "token", "kind"]
        labels = {"token": "Token (Adjust) or event name (Tenjin)"}

    def __init__(self, *args, app: App, **kwargs):
        super().__init__(*args, **kwargs)
        self.app = app
        if len(get_provider(app).event_kinds) == 1:
            # One choice left: a select would only add a click.
            self.fields["kind"].widget = forms.HiddenInput()
            self.fields["kind"].initial = EventKind.EVENT

    def clean(self):
        cleaned = super().clean()
        token, kind = cleaned.get("token"), cleaned.get("kind") or EventKind.EVENT
        if not token:
            return cleaned
        problem = get_provider(self.app).event_token_problem(token, kind)
        if problem:
            # The kind is a hidden field for Adjust: its error must show with the form's own.
            kind_field = "kind" if not self.fields["kind"].widget.is_hidden else None
            self.add_error("token" if kind == EventKind.EVENT else kind_field, problem)
        left = event_names_left(self.app)
        if kind == EventKind.EVENT and left is not None and left <= 0:
            self.add_error("token", too_many_names(self.app))
        existing = EventToken.objects.filter(app=self.app, token=token).first()
        if existing:
            where = "archived, restore it below" if existing.archived else f"named '{existing.name}'"
            self.add_error("token", f"This app already has the token '{token}' ({where}).")
        return cleaned

    def save(self, commit: bool = True) -> EventToken:
        self.instance.app = self.app
        return super().save(commit)


class EventTokenRenameForm(forms.ModelForm):
    class Meta:
        model = EventToken
        fields = ["name"]


class SecurityTokenForm(forms.ModelForm):
    # Never rendered back, not even after an error.
    value = forms.CharField(
        label="Token",
        strip=True,
        min_length=8,
        max_length=200,
        help_text="Typed once, stored encrypted; afterwards only its last 4 characters are shown.",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    class Meta:
        model = SecurityToken
        fields = ["label"]
        help_texts = {"label": "Where it came from, e.g. 'Adjust dashboard, March'."}

    def __init__(self, *args, app: App, **kwargs):
        super().__init__(*args, **kwargs)
        self.app = app

    def clean_value(self) -> str:
        value = self.cleaned_data["value"]
        if any(ch.isspace() for ch in value):
            raise forms.ValidationError("A security token has no spaces; check what was pasted.")
        # Comparing needs each stored value decrypted: a handful per app at most.
        if any(token.value == value for token in self.app.security_tokens.all()):
            raise forms.ValidationError("This app already has this token; activate the existing one instead.")
        return value

    def save(self, commit: bool = True) -> SecurityToken:
        self.instance.app = self.app
        self.instance.value = self.cleaned_data["value"]
        return super().save(commit)
