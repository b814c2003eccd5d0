"""One delivery: its status, parameters and timeline of attempts; resend, clone into the test form,
copy as curl, and each attempt's raw answer as a download.

The status part of the page is a fragment of its own, which the page polls until the delivery is
final. MMP answers are untrusted text: templates escape them, and the raw download is sent as an
attachment of an inert type, never rendered.
"""

import logging
from typing import Any

from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from events.curl import curl_for_attempt, curl_for_request
from events.engine import resend_delivery, retry_now
from events.forms.send import adjust_time_now, form_class, send_form
from events.models import Attempt, Delivery, Environment, Status
from events.pretty import decode_body, header, pretty_value
from events.providers import EventInvalid, get_provider
from events.views.common import get_app_for_user, get_attempt_for_user, get_delivery_for_user, require_perm
from events.views.console import SEND_PERM, render_console

# Other attempts offered for comparison: those of deliveries for the same device, newest first.
RELATED_ATTEMPTS = 10

log = logging.getLogger(__name__)


@require_GET
def delivery(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_delivery_for_user(request, pk)
    context = status_context(delivery)
    attempts = [view["attempt"] for view in context["attempts"]]
    context.update(
        params=[(name, pretty_value(str(value))) for name, value in delivery.params.items()],
        curl=_curl(delivery, attempts),
        resends=list(delivery.resends.order_by("-created_at").values_list("pk", flat=True)[:20]),
        can_send=request.user.has_perm(SEND_PERM),
        retrying=delivery.status == Status.RETRYING,
        provider_label=get_provider(delivery.app).label,
    )
    return render(request, "events/deliveries/delivery.html", context)


@require_GET
def status(request: HttpRequest, pk: int) -> HttpResponse:
    """The part of the delivery page that changes while it is being sent."""
    delivery = get_delivery_for_user(request, pk)
    return render(request, "events/deliveries/_status.html", status_context(delivery))


@require_POST
def resend(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request, SEND_PERM)
    original = get_delivery_for_user(request, pk)
    if not original.is_final:
        # A copy beside a delivery still on its way would reach the MMP twice.
        messages.error(
            request, f"Not resent: delivery {original.pk} is still {original.get_status_display().lower()}."
        )
        return redirect("delivery", pk=original.pk)
    if original.environment == Environment.PRODUCTION and not request.POST.get("confirm_production"):
        messages.error(
            request, "Not resent: a production resend counts as real data; tick the box to confirm."
        )
        return redirect("delivery", pk=original.pk)
    try:
        new = resend_delivery(original, user=request.user)
    except EventInvalid as exc:  # e.g. a guard refusing it now; say why, keep the original
        for field, errors in exc.errors.items():
            messages.error(request, f"Not resent ({field}): {' '.join(errors)}")
        return redirect("delivery", pk=original.pk)
    messages.success(request, f"Resent delivery {original.pk} as delivery {new.pk}.")
    return redirect("delivery", pk=new.pk)


@require_POST
def retry(request: HttpRequest, pk: int) -> HttpResponse:
    """A retrying delivery's next attempt, now rather than at its scheduled time."""
    require_perm(request, SEND_PERM)
    delivery = get_delivery_for_user(request, pk)
    if retry_now(delivery):
        messages.success(request, f"Delivery {delivery.pk} is being retried now.")
    else:
        delivery.refresh_from_db(fields=["status"])
        messages.info(
            request,
            f"Delivery {delivery.pk} is {delivery.get_status_display().lower()}, not waiting to retry.",
        )
    return redirect("delivery", pk=delivery.pk)


@require_GET
def clone(request: HttpRequest, pk: int) -> HttpResponse:
    """The test form, filled in with this delivery's input, to change and send as a new event."""
    require_perm(request, SEND_PERM)
    original = get_delivery_for_user(request, pk)
    app = get_app_for_user(request, original.app_id)
    initial = form_class(app).initial_from(get_provider(app).to_fields(original.params))
    initial.update(event_token=original.event_token_id, environment=original.environment)
    original_time = initial.get("created_at", "")
    if original_time:
        # A clone is a new event: it happens now. Adjust keeps events in order per device and
        # event, so the original's time could be refused as out of order.
        initial["created_at"] = adjust_time_now()
    form = send_form(app, initial=initial)
    return render_console(request, app, form, cloned_from=original, original_time=original_time)


@require_GET
def attempt_response(request: HttpRequest, pk: int) -> HttpResponse:
    """The stored response body as it came (secrets masked), as a file, never as a page."""
    attempt = get_attempt_for_user(request, pk)
    response = HttpResponse(attempt.response_body.encode(), content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="attempt-{attempt.pk}-response.txt"'
    return response


def status_context(delivery: Delivery) -> dict[str, Any]:
    attempts = list(delivery.attempts.order_by("number"))
    for attempt in attempts:
        attempt.delivery = delivery  # one App for every curl below, not one query each
    return {
        "delivery": delivery,
        "attempts": [attempt_view(a) for a in attempts],
        "related": _related_attempts(delivery),
    }


def attempt_view(attempt: Attempt) -> dict[str, Any]:
    """An attempt with its bodies decoded for display (the attempt partial's context)."""
    return {
        "attempt": attempt,
        "request_body": decode_body(attempt.request_body, header(attempt.request_headers, "Content-Type")),
        "response_body": decode_body(attempt.response_body, header(attempt.response_headers, "Content-Type")),
        "curl": curl_for_attempt(attempt),
    }


def _curl(delivery: Delivery, attempts: list[Attempt]) -> str:
    """The last attempt as sent; before any attempt, the request as it would be built now."""
    if attempts:
        return curl_for_attempt(attempts[-1])
    try:
        outbound = get_provider(delivery.app).build(delivery.app, delivery.event_token, delivery.params)
    except ImproperlyConfigured as exc:
        # A stored key SECRETS_KEY cannot decrypt: the page still shows, without the command; any
        # other error is a bug and surfaces as one.
        log.warning("No curl command for delivery %s: %s", delivery.pk, exc)
        return ""
    return curl_for_request(delivery.app, outbound)


def _related_attempts(delivery: Delivery) -> list[Attempt]:
    """Attempts of other deliveries for the same device of the same app (device+time index)."""
    if not delivery.device_id:
        return []
    return list(
        Attempt.objects.filter(delivery__app=delivery.app_id, delivery__device_id=delivery.device_id)
        .exclude(delivery=delivery)
        .select_related("delivery__event_token")
        .order_by("-delivery__created_at", "-number")[:RELATED_ATTEMPTS]
    )
