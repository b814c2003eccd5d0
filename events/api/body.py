"""Reading the API's request body: a limit that fits the documented batch, answered in JSON, and
JSON objects whose keys each appear once.

Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) is for the dashboard's forms; a documented batch of
1,000 events with a few KB of parameters each is larger, and over that limit Django answers with
an HTML 400 (a traceback under DEBUG). The API reads its body itself, up to MAX_BODY_BYTES.
"""

import io
import json
import sys
from typing import Any

from django.http import HttpRequest, JsonResponse
from ninja.parser import Parser

from events.json_keys import unique_keys

MAX_BODY_BYTES = 20 * 1024 * 1024  # 1,000 events of up to 20 KB each
API_PREFIX = "/api/"


class BodyProblem(ValueError):
    """The body is JSON Python would read, but not JSON the API takes; the message says why."""


REPEATED_KEYS = unique_keys(
    lambda key: BodyProblem(f"The key {key!r} appears twice in one object; keep one.")
)


class StrictJsonParser(Parser):
    def parse_body(self, request: HttpRequest) -> Any:
        return json.loads(request.body, object_pairs_hook=REPEATED_KEYS, parse_int=_integer)


def _integer(digits: str) -> int | str:
    # Python refuses to read an integer of more than 4,300 digits, which would fail the whole
    # body; kept as its digits, it becomes the error of its own field (too many digits).
    return int(digits) if len(digits.lstrip("-")) <= sys.get_int_max_str_digits() else digits


class ApiBodyLimitMiddleware:
    """Reads the body of API requests up to MAX_BODY_BYTES; a larger one gets a JSON 413."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if request.path.startswith(API_PREFIX) and request.method in ("POST", "PUT", "PATCH"):
            length = _content_length(request)
            if length is None:
                return JsonResponse({"error": "The Content-Length header is not a number."}, status=400)
            if length > MAX_BODY_BYTES:
                return too_large(length)
            # What HttpRequest.body does, without the dashboard's smaller limit.
            request._body = request.read()
            request._stream = io.BytesIO(request._body)
        return self.get_response(request)


def too_large(length: int) -> JsonResponse:
    return JsonResponse(
        {
            "error": f"The request body is {length:,} bytes; the API takes at most {MAX_BODY_BYTES:,} "
            "bytes per request. Send fewer events per batch."
        },
        status=413,
    )


def _content_length(request: HttpRequest) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
