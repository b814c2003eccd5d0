"""Sign-in throttling: after LOGIN_FAILURE_LIMIT failed sign-ins for one username, or from one
address, within LOGIN_FAILURE_WINDOW seconds, the next attempts are refused with HTTP 429 and a
message saying when to try again, before the password is even checked, so guessing cannot go on.

Every attempt is counted before its password is checked, atomically, in Redis (the one every web
process shares): a sorted set of attempt times per username and per address, trimmed to the window,
added to and read in one MULTI. Of any number of simultaneous guesses only the first
LOGIN_FAILURE_LIMIT reach the password check. A successful sign-in takes its attempt back (and
clears its username's count); a failed one stays counted; a refused one is not counted.

When Redis is unreachable sign-in still works: locking everyone out would be worse than a pause in
counting. The Django admin's own login page redirects here (s2sadmin/urls.py), so there is one door.
"""

import hashlib
import logging
import math
import secrets
import time
from dataclasses import dataclass

import django_rq
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
KEY_PREFIX = "s2sadmin:login-attempts"


@dataclass(frozen=True)
class Attempt:
    """One sign-in attempt, counted under its username's and its address's keys."""

    keys: tuple[str, str]
    member: str


def _keys(request, username: str) -> tuple[str, str]:
    name = hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]
    address = (request.META.get("REMOTE_ADDR") if request else "") or "unknown"
    return f"{KEY_PREFIX}:user:{name}", f"{KEY_PREFIX}:ip:{address}"


def _redis():
    return django_rq.get_connection(settings.SEND_QUEUE)


def begin(request, username: str) -> tuple[Attempt | None, float]:
    """Count an attempt: (the attempt, 0) when it may check its password, else (None, seconds to wait)."""
    now = time.time()
    attempt = Attempt(_keys(request, username), f"{now:.6f}:{secrets.token_hex(6)}")
    try:
        with _redis().pipeline(transaction=True) as pipe:
            for key in attempt.keys:
                pipe.zremrangebyscore(key, "-inf", now - settings.LOGIN_FAILURE_WINDOW)
                pipe.zadd(key, {attempt.member: now})
                pipe.expire(key, math.ceil(settings.LOGIN_FAILURE_WINDOW) + 1)
                pipe.zrange(key, 0, -1, withscores=True)
            replies = pipe.execute()
    except RedisError as exc:  # Redis is down: do not lock everyone out
        log.warning("Sign-in throttling is off, Redis is unreachable: %s", exc)
        return None, 0
    # The attempts counted before this one, per key, oldest first.
    earlier = [[score for member, score in replies[i] if member.decode() != attempt.member] for i in (3, 7)]
    wait = _wait(earlier, now)
    if wait:
        release(attempt)  # refused before its password was checked: not a failure
        return None, wait
    return attempt, 0


def blocked_for(request, username: str) -> float:
    """Seconds until this username and address may try again (0: now)."""
    now = time.time()
    try:
        with _redis().pipeline(transaction=True) as pipe:
            for key in _keys(request, username):
                pipe.zrangebyscore(key, now - settings.LOGIN_FAILURE_WINDOW, "+inf", withscores=True)
            replies = pipe.execute()
    except RedisError as exc:
        log.warning("Sign-in throttling is off, Redis is unreachable: %s", exc)
        return 0
    return _wait([[score for _, score in reply] for reply in replies], now)


def _wait(times_per_key: list[list[float]], now: float) -> float:
    limit = settings.LOGIN_FAILURE_LIMIT
    waits = [
        sorted(times)[-limit] + settings.LOGIN_FAILURE_WINDOW - now
        for times in times_per_key
        if len(times) >= limit
    ]
    return max([0, *waits])


def release(attempt: Attempt | None) -> None:
    """Take back an attempt that was not a failure."""
    if attempt is None:
        return
    try:
        with _redis().pipeline(transaction=True) as pipe:
            for key in attempt.keys:
                pipe.zrem(key, attempt.member)
            pipe.execute()
    except RedisError as exc:
        log.warning("Could not take back a sign-in attempt, Redis is unreachable: %s", exc)


def forget_failures(attempt: Attempt | None) -> None:
    """A successful sign-in takes its attempt back and clears its username's count (not the
    address's: one account's password must not reopen an address that was guessing at others)."""
    if attempt is None:
        return
    release(attempt)
    try:
        _redis().delete(attempt.keys[0])
    except RedisError as exc:
        log.warning("Could not clear failed sign-ins, Redis is unreachable: %s", exc)


def too_many(seconds: float) -> ValidationError:
    minutes = max(1, math.ceil(seconds / 60))
    return ValidationError(
        f"Too many failed sign-in attempts for this account or from this address. Try again in "
        f"{minutes} minute{'s' if minutes != 1 else ''}.",
        code="throttled",
        params={"seconds": math.ceil(seconds)},
    )


class ThrottledAuthenticationForm(AuthenticationForm):
    attempt: Attempt | None = None

    def clean(self):
        username = self.data.get("username", "") or ""
        self.attempt, wait = begin(self.request, username)
        if wait:
            raise too_many(wait)
        try:
            return super().clean()
        except ValidationError as error:
            if error.code != "invalid_login":
                release(self.attempt)  # e.g. an inactive account: not a guess
                raise
            wait = blocked_for(self.request, username)
            if wait:
                raise too_many(wait) from None
            raise


class ThrottledLoginView(LoginView):
    form_class = ThrottledAuthenticationForm

    def form_valid(self, form):
        forget_failures(form.attempt)
        return super().form_valid(form)

    def form_invalid(self, form):
        response = super().form_invalid(form)
        throttled = [e for e in form.non_field_errors().as_data() if e.code == "throttled"]
        if throttled:
            response.status_code = 429
            response["Retry-After"] = str(throttled[0].params["seconds"])
        return response
