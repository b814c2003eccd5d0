"""The result callback's URL, checked like any outbound host before it is saved."""

from django import forms

from events.callbacks.destinations import url_problem
from events.callbacks.models import CallbackEndpoint


class CallbackEndpointForm(forms.ModelForm):
    url = forms.URLField(
        max_length=2000,
        assume_scheme="https",
        label="Callback URL",
        help_text="s2sadmin posts each delivery's final result here, signed (Standard Webhooks). "
        "https, a public address, no redirects.",
        widget=forms.URLInput(attrs={"placeholder": "https://backend.example.com/s2s-results"}),
    )

    class Meta:
        model = CallbackEndpoint
        fields = ["url"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        problem = url_problem(url)
        if problem:
            raise forms.ValidationError(problem)
        return url
