"""The overview's range picker and split: a GET form, so each view of the overview is a URL."""

from datetime import UTC, datetime, tzinfo

from django import forms
from django.utils import timezone

from events.models import App, Provider
from events.reporting import figures

RANGE_CHOICES = [*((key, label) for key, (label, _) in figures.PRESETS.items()), ("custom", "Custom")]


class OverviewForm(forms.Form):
    range = forms.ChoiceField(choices=RANGE_CHOICES, required=False, initial="24h")
    since = forms.DateTimeField(
        required=False,
        label="From",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    until = forms.DateTimeField(
        required=False,
        label="Until",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    mmp = forms.ChoiceField(choices=[("", "all"), *Provider.choices], required=False, label="MMP")
    app = forms.ModelChoiceField(queryset=App.objects.order_by("name"), required=False, empty_label="all")
    tests = forms.ChoiceField(
        choices=[("", "included"), ("exclude", "left out")], required=False, label="Test traffic"
    )

    def __init__(self, data=None, *args, **kwargs):
        # A bound form ignores `initial`: without a range in the URL the picker must still show
        # the 24 hours the page shows, not its first choice.
        if data is not None and not data.get("range"):
            data = data.copy()
            data["range"] = "24h"
        kwargs.setdefault("label_suffix", "")
        super().__init__(data, *args, **kwargs)
        # Typed times are read in the reader's zone (Django's forms use the active one): say which.
        zone = timezone.get_current_timezone_name()
        self.fields["since"].label = f"From ({zone})"
        self.fields["until"].label = f"Until ({zone})"

    def clean(self):
        data = super().clean()
        if data.get("range") == "custom":
            if not data.get("since") or not data.get("until"):
                raise forms.ValidationError("A custom range needs both a start and an end.")
            if data["until"] < data["since"]:
                raise forms.ValidationError("The end of the range is before its start.")
        return data

    def time_range(self, now: datetime, zone: tzinfo = UTC) -> figures.Range:
        """The chosen range, its bars in `zone`; the last 24 hours when the form is invalid or says
        nothing."""
        data = self.cleaned_data if self.is_valid() else {}
        if data.get("range") == "custom":
            return figures.custom(data["since"], data["until"], zone)
        return figures.preset(data.get("range") or "24h", now, zone)
