"""The ingestion API for backends, at /api/v1/: events in, delivery status out.

Authenticated by API keys (`Authorization: Bearer s2s_...`), rate limited per key, idempotent by
`Idempotency-Key` and by each event's own `id`. Its OpenAPI document is /api/v1/openapi.json.
"""

# The NinjaAPI object, its authentication and error answers (this docstring is the OpenAPI
# description). It lives here rather than in the package's __init__.py because events/models.py
# imports events.api.models while it loads: the package itself must import nothing at that time.

from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from events.api import keys, ratelimit
from events.api.body import BodyProblem, StrictJsonParser


class ApiKeyAuth(HttpBearer):
    def authenticate(self, request, token):
        key = keys.authenticate(token)
        if key is None:
            return None
        wait = ratelimit.retry_after(key.pk, key.rate_limit_per_minute)
        if wait is not None:
            raise RateLimited(wait)
        return key


class RateLimited(Exception):
    def __init__(self, retry_after: int):
        self.retry_after = retry_after


api = NinjaAPI(
    title="s2sadmin ingestion API",
    version="1",
    description=__doc__,
    urls_namespace="api-v1",
    auth=ApiKeyAuth(),
    docs_url=None,  # the docs UI would load scripts from a CDN; the schema is what clients need
    parser=StrictJsonParser(),
)


@api.exception_handler(ValidationError)
def malformed_body(request, exc: ValidationError):
    details = [
        {"where": ".".join(str(part) for part in error.get("loc", ())), "problem": error.get("msg", "")}
        for error in exc.errors
    ]
    return api.create_response(
        request, {"error": "The request body is not valid.", "details": details}, status=400
    )


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(request, {"error": "Not found among this API key's apps."}, status=404)


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
        cause = exc.__cause__
        problem = str(cause) if isinstance(cause, BodyProblem) else "not JSON"
        body = {"error": "The request body is not valid.", "details": [{"where": "body", "problem": problem}]}
        return api.create_response(request, body, status=400)
    return api.create_response(request, {"error": str(exc)}, status=exc.status_code)


@api.exception_handler(AuthenticationError)
def unauthorized(request, exc):
    return api.create_response(
        request, {"error": "Missing or unknown API key: send 'Authorization: Bearer <key>'."}, status=401
    )


@api.exception_handler(RateLimited)
def too_many_requests(request, exc: RateLimited):
    response = api.create_response(
        request, {"error": f"Rate limit of this API key reached; retry in {exc.retry_after} s."}, status=429
    )
    response["Retry-After"] = str(exc.retry_after)
    return response
