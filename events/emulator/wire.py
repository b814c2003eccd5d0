"""What comes over the wire (`Incoming`) and what goes back (`Answer`), for both MMPs."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

from django.http import HttpRequest, HttpResponse, JsonResponse

from events.emulator.parse import form_pairs

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


class Answer(NamedTuple):
    status: int
    # A JSON object, or bare text (AppsFlyer's `OK`), or nothing.
    body: dict[str, Any] | str | None


class Rejected(Exception):
    """A check failed: the status and the MMP's message, to be wrapped in its error envelope."""

    def __init__(self, status: int, message: str):
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message


@dataclass
class Incoming:
    """A request as the checks see it. The body is read only on demand, after the size check."""

    method: str
    path: str
    query_string: str
    content_type: str
    content_length: int
    authorization: str
    read_body: Callable[[], bytes]
    # AppsFlyer's header for its S2S token, literally named `authentication`.
    authentication: str = ""

    @classmethod
    def from_request(cls, request: HttpRequest) -> "Incoming":
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        return cls(
            method=request.method or "GET",
            path=request.path,
            query_string=request.META.get("QUERY_STRING", ""),
            content_type=request.content_type or "",
            content_length=length,
            authorization=request.headers.get("Authorization", ""),
            read_body=lambda: request.body,
            authentication=request.headers.get("authentication", ""),
        )

    @classmethod
    def build(
        cls,
        method: str = "GET",
        query: str = "",
        body: bytes = b"",
        *,
        content_type: str = FORM_CONTENT_TYPE,
        authorization: str = "",
        path: str = "/",
        authentication: str = "",
    ) -> "Incoming":
        """For calling the checks directly, without HTTP."""
        return cls(method, path, query, content_type, len(body), authorization, lambda: body, authentication)

    @property
    def size(self) -> int:
        return len(self.path) + len(self.query_string) + self.content_length

    @cached_property
    def body(self) -> bytes:
        return self.read_body() if self.content_length else b""

    @cached_property
    def query_params(self) -> dict[str, str]:
        return form_pairs(self.query_string)

    @cached_property
    def body_params(self) -> dict[str, str]:
        # Other body types are ignored (UNCONFIRMED for JSON: neither MMP lists it).
        if self.method != "POST" or self.content_type != FORM_CONTENT_TYPE:
            return {}
        return form_pairs(self.body.decode("utf-8", errors="replace"))

    @cached_property
    def params(self) -> dict[str, str]:
        # UNCONFIRMED: a name in both the query and the body takes the body's value.
        return {**self.query_params, **self.body_params}


def json_answer(answer: Answer, headers: dict[str, str] | None = None) -> HttpResponse:
    if answer.body is None:
        response = HttpResponse(status=answer.status)
    elif isinstance(answer.body, str):
        # UNCONFIRMED (AppsFlyer): its schema says JSON, its examples are bare words; sent as text.
        response = HttpResponse(answer.body, status=answer.status, content_type="text/plain; charset=utf-8")
    else:
        # Compact, like the observed bodies (`{"code":200,"success":true}`).
        response = JsonResponse(
            answer.body,
            status=answer.status,
            content_type=JSON_CONTENT_TYPE,
            json_dumps_params={"separators": (",", ":")},
        )
    for name, value in (headers or {}).items():
        response[name] = value
    return response
