"""Sign-in throttling: after LOGIN_FAILURE_LIMIT failed sign-ins for one username, or from one
address, within LOGIN_FAILURE_WINDOW seconds, the next attempts are refused with HTTP 429 and a
message saying when to try again, before the password is even checked, so guessing cannot go on.

Failures are counted in Django's cache (Redis outside tests, shared by every web process). When the
cache is unreachable sign-in still works: locking everyone out would be worse than a pause in
counting. The Django admin's own login page redirects here (s2sadmin/urls.py), so there is one door.
"""

import hashlib
import logging
import math
import time

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.core.exceptions import ValidationError

log = logging.getLogger(__name__)


def _keys(request, username: str) -> list[str]:
    name = hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]
    address = (request.META.get("REMOTE_ADDR") if request else "") or "unknown"
    return [f"login-failures:user:{name}", f"login-failures:ip:{address}"]


def _recent(key: str, now: float) -> list[float]:
    return [t for t in cache.get(key) or [] if t > now - settings.LOGIN_FAILURE_WINDOW]


def blocked_for(request, username: str) -> float:
    """Seconds until this username and address may try again (0: now)."""
    now = time.time()
    limit = settings.LOGIN_FAILURE_LIMIT
    try:
        waits = [
            times[-limit] + settings.LOGIN_FAILURE_WINDOW - now
            for times in (_recent(key, now) for key in _keys(request, username))
            if len(times) >= limit
        ]
    except Exception as exc:  # the cache is down: do not lock everyone out
        log.warning("Sign-in throttling is off, the cache is unreachable: %s", exc)
        return 0
    return max([0, *waits])


def record_failure(request, username: str) -> None:
    now = time.time()
    try:
        for key in _keys(request, username):
            cache.set(key, [*_recent(key, now), now], settings.LOGIN_FAILURE_WINDOW)
    except Exception as exc:
        log.warning("Could not count a failed sign-in, the cache is unreachable: %s", exc)


def forget_failures(request, username: str) -> None:
    """A successful sign-in clears its username's count (not the address's: one account's
    password must not reopen an address that was guessing at others)."""
    try:
        cache.delete(_keys(request, username)[0])
    except Exception as exc:
        log.warning("Could not clear failed sign-ins, the cache is unreachable: %s", exc)


def too_many(seconds: float) -> ValidationError:
    minutes = max(1, math.ceil(seconds / 60))
    return ValidationError(
        f"Too many failed sign-in attempts for this account or from this address. Try again in "
        f"{minutes} minute{'s' if minutes != 1 else ''}.",
        code="throttled",
        params={"seconds": math.ceil(seconds)},
    )


class ThrottledAuthenticationForm(AuthenticationForm):
    def clean(self):
        username = self.data.get("username", "") or ""
        wait = blocked_for(self.request, username)
        if wait:
            raise too_many(wait)
        try:
            return super().clean()
        except ValidationError as error:
            if error.code == "invalid_login":
                record_failure(self.request, username)
                wait = blocked_for(self.request, username)
                if wait:
                    raise too_many(wait) from None
            raise


class ThrottledLoginView(LoginView):
    form_class = ThrottledAuthenticationForm

    def form_valid(self, form):
        forget_failures(self.request, form.cleaned_data.get("username", ""))
        return super().form_valid(form)

    def form_invalid(self, form):
        response = super().form_invalid(form)
        throttled = [e for e in form.non_field_errors().as_data() if e.code == "throttled"]
        if throttled:
            response.status_code = 429
            response["Retry-After"] = str(throttled[0].params["seconds"])
        return response
