"""Creating an API key: a name, the apps it may send to, and its rate limit."""

from django import forms

from events.models import ApiKey, App
from events.names import clean_name

MAX_RATE_LIMIT = 100_000


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=ApiKey._meta.get_field("name").max_length,
        help_text="Who uses it, e.g. 'orders backend (production)'.",
    )
    apps = forms.ModelMultipleChoiceField(
        queryset=App.objects.filter(active=True),
        widget=forms.CheckboxSelectMultiple,
        help_text="The key can send events to these apps only, and read their deliveries.",
    )
    rate_limit_per_minute = forms.IntegerField(
        label="Rate limit (requests per minute)",
        min_value=1,
        max_value=MAX_RATE_LIMIT,
        initial=ApiKey._meta.get_field("rate_limit_per_minute").default,
        help_text="Requests beyond it get 429 with Retry-After; a request carries up to 1,000 events.",
    )

    def clean_name(self) -> str:
        return clean_name(self.cleaned_data["name"])
