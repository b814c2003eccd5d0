"""The test-event form: the fields follow the app's MMP; the MMP's own validation decides what is sent.

The form only collects input and hands it to the provider as the provider-neutral fields
(`events.providers.base.EventFields`); it does not re-check formats, so the rules live in one
place. The provider's errors come back by field name and are put next to the matching input.
"""

from collections.abc import Mapping
from typing import Any

from events.choices import Provider
from events.forms.send.adjust import AdjustSendForm
from events.forms.send.base import SendForm, adjust_time_now
from events.forms.send.described import DescribedSendForm
from events.forms.send.tenjin import TenjinSendForm
from events.models import App

# The MMPs with a layout of their own; the others get DescribedSendForm.
FORMS: dict[str, type[SendForm]] = {Provider.ADJUST: AdjustSendForm, Provider.TENJIN: TenjinSendForm}


def form_class(app: App) -> type[SendForm]:
    return FORMS.get(app.provider, DescribedSendForm)


def send_form(app: App, data=None, initial: Mapping[str, Any] | None = None) -> SendForm:
    return form_class(app)(app, data=data, initial=dict(initial or {}))


__all__ = [
    "AdjustSendForm",
    "DescribedSendForm",
    "SendForm",
    "TenjinSendForm",
    "adjust_time_now",
    "form_class",
    "send_form",
]
