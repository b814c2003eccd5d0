"""The request log's filters: a GET form, so a filtered log is a URL to share."""

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone

from events.forms.quick_select import ListedChoices, QuickSelect
from events.log.query import SKAN_CHOICES, STATUS_GROUPS
from events.models import App, Environment, EventToken, Provider, Source, Status

PERIODS = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
STATUS_CHOICES = [
    *Status.choices,
    *((group, label) for group, (label, _) in STATUS_GROUPS.items()),
]
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"]


def _blank(choices) -> list[tuple[str, str]]:
    return [("", "any"), *choices]


class QuickChoiceField(forms.ChoiceField):
    # The log's filters are rendered on every visit to the log (see quick_select).
    widget = QuickSelect


class QuickModelChoiceField(forms.ModelChoiceField):
    iterator = ListedChoices
    widget = QuickSelect


class EventChoiceField(QuickModelChoiceField):
    def label_from_instance(self, obj: EventToken) -> str:
        return f"{obj.app.name} · {obj.name} ({obj.token})"


class LogFilterForm(forms.Form):
    q = forms.CharField(
        required=False,
        label="Search",
        widget=forms.TextInput(
            attrs={
                "placeholder": "delivery id, part of a device id, answer or parameter value",
                "type": "search",
            }
        ),
    )
    app = QuickModelChoiceField(queryset=App.objects.order_by("name"), required=False, empty_label="any")
    event = EventChoiceField(
        queryset=EventToken.objects.select_related("app").order_by("app__name", "name"),
        required=False,
        empty_label="any",
    )
    mmp = QuickChoiceField(choices=_blank(Provider.choices), required=False, label="MMP")
    status = QuickChoiceField(choices=_blank(STATUS_CHOICES), required=False)
    http = forms.RegexField(
        regex=r"^\s*(\d{3}|[1-5]xx|none)\s*$",
        required=False,
        label="HTTP status",
        error_messages={"invalid": "An HTTP status like 404, a class like 4xx, or none."},
        widget=forms.TextInput(attrs={"placeholder": "200, 4xx, none", "size": 11}),
    )
    source = QuickChoiceField(choices=_blank(Source.choices), required=False)
    skan = QuickChoiceField(choices=_blank(SKAN_CHOICES), required=False, label="SKAN")
    environment = QuickChoiceField(choices=_blank(Environment.choices), required=False)
    tests = QuickChoiceField(
        choices=[("", "included"), ("exclude", "left out")], required=False, label="Test traffic"
    )
    period = QuickChoiceField(
        choices=_blank([(key, f"last {key}") for key in PERIODS]), required=False, label="Time"
    )
    since = forms.DateTimeField(
        required=False,
        input_formats=DATETIME_FORMATS,
        label="From",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    until = forms.DateTimeField(
        required=False,
        input_formats=DATETIME_FORMATS,
        label="Until",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        # Typed times are read in the user's zone (Django's forms use the active one): say which.
        zone = timezone.get_current_timezone_name()
        self.fields["since"].label = f"From ({zone})"
        self.fields["until"].label = f"Until ({zone})"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since >= until:
            # An empty page would look like "nothing happened"; it is the filter that cannot match.
            self.add_error("until", "This is not after 'From': no delivery can match. Swap the two times.")
        return cleaned

    def filters(self) -> dict[str, Any]:
        """The cleaned filters for log_query.filtered (empty when the form is invalid)."""
        if not self.is_valid():
            return {}
        data = dict(self.cleaned_data)
        if data.get("period"):
            since = timezone.now() - PERIODS[data["period"]]
            data["since"] = max(since, data["since"]) if data.get("since") else since
        return data

    def active(self) -> bool:
        return any(self.data.get(name) for name in self.fields)
