"""Error reports (the DEBUG error page, the e-mails to ADMINS) without MMP secrets or credentials.

Django's SafeExceptionReporterFilter hides settings whose names look secret, and variables and POST
fields only where a view says so, and only outside DEBUG. This filter also:

- hides settings that carry credentials in a URL (REDIS_URL, the queues' URLs, cache locations);
- hides POST fields that hold a secret in s2sadmin's forms (app_key, value, new_secret, password);
- masks, in every frame's variables, each secret found in that frame or its callers: the secrets of
  an OutboundRequest or a Masker, and the decrypted app key or token of an App or SecurityToken;
- does all of it in DEBUG too: a developer's traceback is no place for a customer's token either.
"""

import re
from pprint import pformat

from django.views.debug import SafeExceptionReporterFilter

from events.models import App, SecurityToken
from events.secrets import Ciphertext, Masker
from events.transport import OutboundRequest

SECRET_FIELDS = re.compile(r"^(app_key|value|new_secret|password\d?|old_password|new_password\d?)$")


class Shown(str):
    """Text shown as it is (pprint would add quotes around a plain str)."""

    def __repr__(self) -> str:
        return str(self)


class SecretsExceptionReporterFilter(SafeExceptionReporterFilter):
    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|CREDENTIAL|URL|DSN|LOCATION", flags=re.I
    )

    def is_active(self, request) -> bool:
        return True

    def get_post_parameters(self, request):
        parameters = super().get_post_parameters(request)
        if request is None or not parameters:
            return parameters
        cleansed = parameters.copy()
        for name in cleansed:
            if SECRET_FIELDS.match(name) or self.hidden_settings.search(name):
                cleansed[name] = self.cleansed_substitute
        return cleansed

    def get_traceback_frame_variables(self, request, tb_frame):
        variables = super().get_traceback_frame_variables(request, tb_frame)
        masker = Masker(secrets_in_reach(tb_frame))
        shown = []
        for name, value in variables:
            if self.hidden_settings.search(name) and value is not None and not callable(value):
                shown.append((name, self.cleansed_substitute))
                continue
            try:
                text = pformat(value)
            except Exception:  # a broken __repr__ must not break the report
                text = f"<{type(value).__name__} object>"
            shown.append((name, Shown(masker.text(text))))
        return shown


def secrets_in_reach(frame) -> list[str]:
    """The plain secrets held by this frame's variables and its callers'."""
    found: list[str] = []
    while frame is not None:
        for value in list(frame.f_locals.values()):
            found.extend(_secrets_of(value))
        frame = frame.f_back
    return found


def _secrets_of(value) -> list[str]:
    if isinstance(value, OutboundRequest):
        return list(value.secrets)
    if isinstance(value, Masker):
        return [original for original, _ in value.replacements]
    if isinstance(value, App):
        return _plain(value.__dict__.get("app_key"))
    if isinstance(value, SecurityToken):
        return _plain(value.__dict__.get("value"))
    return []


def _plain(value) -> list[str]:
    # Still encrypted (never read in this request): nothing to hide but the ciphertext itself.
    return [value] if isinstance(value, str) and value and not isinstance(value, Ciphertext) else []
