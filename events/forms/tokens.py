"""Event token and security token forms; both belong to one app, given by the view."""

from django import forms

from events.models import App, EventKind, EventToken, SecurityToken
from events.names import clean_name, name_problem
from events.providers import get_provider


def too_many_names(app: App) -> str:
    provider = get_provider(app)
    return (
        f"{provider.label} keeps at most {provider.max_event_names(app)} event names per app and drops "
        "any beyond; reuse an existing name."
    )


def event_names_left(app: App) -> int | None:
    """How many more event names the provider takes for this app; None for no limit. Archived
    names were sent, so they count too."""
    limit = get_provider(app).max_event_names(app)
    if limit is None:
        return None
    return limit - app.event_tokens.filter(kind=EventKind.EVENT).count()


SECURITY_TOKEN_LENGTHS = (8, 200)


def event_token_problem(app: App, token: str, kind: str) -> str | None:
    """The provider rule a token breaks, if any (shared with the CSV import and import_config)."""
    problems = get_provider(app).validate_event_token(app, token, kind)
    return " ".join(problems) or name_problem(token, "The token") or None


class EventTokenForm(forms.ModelForm):
    class Meta:
        model = EventToken
        fields = ["name", "token", "kind"]
        labels = {"token": "Token (Adjust) or event name"}

    def __init__(self, *args, app: App, **kwargs):
        super().__init__(*args, **kwargs)
        self.app = app
        self.fields["token"].label = get_provider(app).token_label
        if len(get_provider(app).event_kinds) == 1:
            # One choice left: a select would only add a click.
            self.fields["kind"].widget = forms.HiddenInput()
            self.fields["kind"].initial = EventKind.EVENT

    def clean_name(self) -> str:
        return clean_name(self.cleaned_data["name"])

    def clean(self):
        cleaned = super().clean()
        token, kind = cleaned.get("token"), cleaned.get("kind") or EventKind.EVENT
        if not token:
            return cleaned
        problem = event_token_problem(self.app, token, kind)
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

    def clean_name(self) -> str:
        return clean_name(self.cleaned_data["name"])


class SecurityTokenForm(forms.ModelForm):
    # Never rendered back, not even after an error.
    value = forms.CharField(
        label="Token",
        strip=True,
        min_length=SECURITY_TOKEN_LENGTHS[0],
        max_length=SECURITY_TOKEN_LENGTHS[1],
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

    def clean_label(self) -> str:
        return clean_name(self.cleaned_data["label"], "label")

    def clean_value(self) -> str:
        value = self.cleaned_data["value"]
        problem = security_token_problem(value)
        if problem:
            raise forms.ValidationError(problem)
        # Comparing needs each stored value decrypted: a handful per app at most.
        if any(token.value == value for token in self.app.security_tokens.all()):
            raise forms.ValidationError("This app already has this token; activate the existing one instead.")
        return value

    def save(self, commit: bool = True) -> SecurityToken:
        self.instance.app = self.app
        self.instance.value = self.cleaned_data["value"]
        return super().save(commit)


def security_token_problem(value: str) -> str | None:
    """Why this security token value cannot be right, or None (the form and import_config)."""
    low, high = SECURITY_TOKEN_LENGTHS
    if not low <= len(value) <= high:
        return f"A security token is {low} to {high} characters long; this one has {len(value)}."
    if any(ch.isspace() for ch in value):
        return "A security token has no spaces; check what was pasted."
    return None
