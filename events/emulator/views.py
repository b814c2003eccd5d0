"""The emulator's endpoints: thin views over the checks in each MMP's module."""

from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from events.emulator import adjust, appsflyer, faults, singular, tenjin
from events.emulator.wire import Incoming, json_answer

ADJUST_EVENT = faults.Endpoint("adjust", adjust.check_event, adjust.INTERNAL_ERROR, adjust.TOO_MANY_REQUESTS)
TENJIN_EVENT = faults.Endpoint("tenjin", tenjin.check_event, tenjin.INTERNAL_ERROR, tenjin.TOO_MANY_REQUESTS)
TENJIN_PURCHASE = faults.Endpoint(
    "tenjin", tenjin.check_purchase, tenjin.INTERNAL_ERROR, tenjin.TOO_MANY_REQUESTS
)

APPSFLYER_EVENT = faults.Endpoint(
    "appsflyer", appsflyer.check_event, appsflyer.INTERNAL_ERROR, appsflyer.TOO_MANY_REQUESTS
)
SINGULAR_EVENT = faults.Endpoint(
    "singular", singular.check_event, singular.INTERNAL_ERROR, singular.TOO_MANY_REQUESTS
)
SINGULAR_LAUNCH = faults.Endpoint(
    "singular", singular.check_launch, singular.INTERNAL_ERROR, singular.TOO_MANY_REQUESTS
)


def emulator_enabled(view):
    """404 unless EMULATOR_ENABLED, read per request so tests can flip it. Public when on: it
    plays an MMP's public endpoint, reached by the sender without a session."""

    @login_not_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not settings.EMULATOR_ENABLED:
            return HttpResponseNotFound()
        return view(request, *args, **kwargs)

    return wrapper


def _serve(request: HttpRequest, endpoint: faults.Endpoint) -> HttpResponse:
    try:
        answer, headers = faults.answer(endpoint, Incoming.from_request(request))
    except faults.Dropped:
        return faults.drop_connection(request)
    return json_answer(answer, headers)


@csrf_exempt
@emulator_enabled
@require_http_methods(["GET", "POST"])
def adjust_event(request: HttpRequest) -> HttpResponse:
    return _serve(request, ADJUST_EVENT)


@csrf_exempt
@emulator_enabled
@require_POST
def adjust_gdpr_forget_device(request: HttpRequest) -> HttpResponse:
    return json_answer(adjust.forget_device(Incoming.from_request(request), now=timezone.now()))


@csrf_exempt
@emulator_enabled
@require_http_methods(["GET", "POST"])
def tenjin_event(request: HttpRequest) -> HttpResponse:
    return _serve(request, TENJIN_EVENT)


@csrf_exempt
@emulator_enabled
@require_http_methods(["GET", "POST"])  # UNCONFIRMED: the SDK POSTs; GET is accepted too
def tenjin_purchase(request: HttpRequest) -> HttpResponse:
    return _serve(request, TENJIN_PURCHASE)


@csrf_exempt
@emulator_enabled
@require_POST
def appsflyer_event(request: HttpRequest, app_id: str) -> HttpResponse:
    return _serve(request, APPSFLYER_EVENT)


@csrf_exempt
@emulator_enabled
@require_http_methods(["GET", "POST"])  # V1 documented as GET with a query, the 2026 reference as POST
def singular_event(request: HttpRequest) -> HttpResponse:
    return _serve(request, SINGULAR_EVENT)


@csrf_exempt
@emulator_enabled
@require_http_methods(["GET", "POST"])
def singular_launch(request: HttpRequest) -> HttpResponse:
    return _serve(request, SINGULAR_LAUNCH)
