"""Sign-in lockout with django-axes: failures are counted in the database, atomically, per username
(LOGIN_FAILURE_LIMIT within LOGIN_FAILURE_WINDOW seconds) and per address only at the much higher
LOGIN_ADDRESS_FAILURE_LIMIT, so a few typos behind a company proxy lock out one account, never the
whole team. The client's address is read behind TRUSTED_PROXIES only. A locked sign-in gets the
login page with HTTP 429 and when to try again; an admin unlocks a user, or an address, on the
Users page.
"""

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.db.models import Max, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone


def normal_username(request: HttpRequest, credentials: dict | None) -> str:
    """Failures for 'Alice' and 'alice ' count as one username's."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    return username.strip().casefold()


def client_address(request: HttpRequest) -> str:
    """The client's address: the nearest X-Forwarded-For entry that is not one of our own trusted
    proxies, when the request came through one; otherwise the connection's address. Entries a
    client wrote itself are never trusted (they are further left than the proxies' own)."""
    address = request.META.get("REMOTE_ADDR", "")
    trusted = settings.TRUSTED_PROXIES
    if address not in trusted:
        return address
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if hop not in trusted and is_address(hop):
            return hop
    return address


def is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


class TeamLockoutHandler(AxesDatabaseHandler):
    """Axes' database handler, with a limit per username and a higher one per address.

    Axes compares one count with one limit (AXES_FAILURE_LIMIT, the username's): the address's
    count is given in the username's scale, so it reaches that limit only at
    LOGIN_ADDRESS_FAILURE_LIMIT failures.
    """

    def get_failures(self, request, credentials: dict | None = None) -> int:
        by_username, by_address = (
            attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        scale = settings.LOGIN_FAILURE_LIMIT / settings.LOGIN_ADDRESS_FAILURE_LIMIT
        return max(by_username, math.floor(by_address * scale))


def locked_out(request: HttpRequest, original_response=None, credentials: dict | None = None) -> HttpResponse:
    """The login page again, with HTTP 429 and when to try again (AXES_LOCKOUT_CALLABLE)."""
    seconds = seconds_locked(normal_username(request, credentials), client_address(request))
    minutes = max(1, math.ceil(seconds / 60))
    message = (
        "Too many failed sign-in attempts for this account or from this address. Try again in "
        f"{minutes} minute{'s' if minutes != 1 else ''}, or ask an admin to unlock the account."
    )
    context = {
        "form": AuthenticationForm(request),
        "locked_out": message,
        "next": request.POST.get("next", ""),
    }
    response = render(request, "registration/login.html", context, status=429)
    response["Retry-After"] = str(max(1, math.ceil(seconds)))
    return response


def seconds_locked(username: str, address: str) -> float:
    """Until the latest counted failure of this username or address is older than the window."""
    latest = AccessAttempt.objects.filter(Q(username=username) | Q(ip_address=address)).aggregate(
        at=Max("attempt_time")
    )["at"]
    if latest is None:
        return 0
    return max(
        0.0, (latest + timedelta(seconds=settings.LOGIN_FAILURE_WINDOW) - timezone.now()).total_seconds()
    )


def locked_usernames(usernames: list[str]) -> set[str]:
    """Which of these usernames are locked out now."""
    since = timezone.now() - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW)
    counts = (
        AccessAttempt.objects.filter(username__in=[u.casefold() for u in usernames], attempt_time__gte=since)
        .values("username")
        .annotate(n=Sum("failures_since_start"))
        .filter(n__gte=settings.LOGIN_FAILURE_LIMIT)
    )
    locked = {row["username"] for row in counts}
    return {u for u in usernames if u.casefold() in locked}


@dataclass(frozen=True)
class LockedAddress:
    """An address locked out by its failures (LOGIN_ADDRESS_FAILURE_LIMIT within the window)."""

    address: str
    failures: int
    until: datetime  # when its latest counted failure leaves the window

    def __str__(self) -> str:
        return f"address {self.address}"


def locked_addresses() -> list[LockedAddress]:
    """The addresses locked out now, the latest first."""
    window = timedelta(seconds=settings.LOGIN_FAILURE_WINDOW)
    rows = (
        AccessAttempt.objects.filter(attempt_time__gte=timezone.now() - window)
        .exclude(ip_address=None)
        .values("ip_address")
        .annotate(n=Sum("failures_since_start"), latest=Max("attempt_time"))
        .filter(n__gte=settings.LOGIN_ADDRESS_FAILURE_LIMIT)
        .order_by("-latest")
    )
    return [LockedAddress(row["ip_address"], row["n"], row["latest"] + window) for row in rows]


def unlock_address(address: str) -> int:
    """Forget the address's failures (an admin's unlock); the usernames' own counts stay."""
    return reset(ip=address)


def unlock(username: str) -> int:
    """Forget the username's failures (an admin's unlock, or a successful sign-in)."""
    return reset(username=username.strip().casefold())


class SignInView(LoginView):
    """Django's login view; a successful sign-in forgets the username's failures (not the
    address's: one account's password must not reopen an address that was guessing at others)."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        unlock(form.get_user().get_username())
        return super().form_valid(form)
